import Raft
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The seeds CI runs: fixed so failures reproduce; `scripts/sim-seeds` runs thousands more.
let continuousIntegrationSeeds: [UInt64] = Array(1...30)

func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}

/// simulationSeeds: RAFT_SIM_SEED=1234 replays one seed, RAFT_SIM_SEEDS=1000-5000 runs a range,
/// otherwise the CI set.
func simulationSeeds() -> [UInt64] {
    if let one = environment("RAFT_SIM_SEED").flatMap(UInt64.init) {
        return [one]
    }
    if let range = environment("RAFT_SIM_SEEDS") {
        let bounds = range.split(separator: "-").compactMap { UInt64($0) }
        if bounds.count == 2, bounds[0] <= bounds[1] {
            return Array(bounds[0]...bounds[1])
        }
    }
    return continuousIntegrationSeeds
}

func runSimulation(seed: UInt64, memberCount: Int) -> [String] {
    var options = SimulationOptions()
    options.memberCount = memberCount
    if let steps = environment("RAFT_SIM_STEPS").flatMap(Int.init) {
        options.steps = steps
    }
    var simulator = Simulator(seed: seed, options: options)
    let problems = simulator.run()
    if environment("RAFT_SIM_VERBOSE") != nil {
        print("raft-sim seed=\(seed) members=\(memberCount) \(simulator.statistics) operations=\(simulator.history.count)")
    }
    return problems
}

@Suite struct SimulationTests {
    @Test(arguments: [3, 5])
    func deterministicSimulation(memberCount: Int) {
        let onlyMembers = environment("RAFT_SIM_MEMBERS").flatMap(Int.init)
        if let onlyMembers, onlyMembers != memberCount {
            return
        }
        var failures: [UInt64] = []
        for seed in simulationSeeds() {
            let problems = runSimulation(seed: seed, memberCount: memberCount)
            if !problems.isEmpty {
                failures.append(seed)
                Issue.record("""
                    simulation failed: seed \(seed), \(memberCount) members
                    replay: RAFT_SIM_SEED=\(seed) RAFT_SIM_MEMBERS=\(memberCount) swift test --filter RaftTests.SimulationTests
                    \(problems.prefix(5).joined(separator: "\n"))
                    """)
                print("RAFT_SIM_FAILED seed=\(seed) members=\(memberCount)")
            }
        }
        print("raft-sim: \(memberCount) members, \(simulationSeeds().count) seeds, \(failures.count) failed\(failures.isEmpty ? "" : ": \(failures)")")
    }

    @Test func theSameSeedReplaysExactly() {
        var first = Simulator(seed: 77, options: SimulationOptions(steps: 1500, quietSteps: 300))
        var second = Simulator(seed: 77, options: SimulationOptions(steps: 1500, quietSteps: 300))
        _ = first.run()
        _ = second.run()
        #expect(first.history == second.history)
        #expect(first.statistics.description == second.statistics.description)
    }

    @Test func theCheckerRejectsANonLinearizableHistory() {
        // put(1) completes, then a later get returns nothing: impossible.
        let history = [
            HistoryOperation(clientOperationID: 1, key: 0, input: .put(1), output: HistoryOperation.Output.none, callTime: 1, returnTime: 2),
            HistoryOperation(clientOperationID: 2, key: 0, input: .get, output: .value(nil), callTime: 3, returnTime: 4),
        ]
        #expect(LinearizabilityChecker.check(history) == .notLinearizable)
        var concurrent = history
        concurrent[1].callTime = 0
        #expect(LinearizabilityChecker.check(concurrent) == .linearizable)
    }
}
