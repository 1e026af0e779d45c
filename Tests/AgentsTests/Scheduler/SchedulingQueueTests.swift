import Api
import Testing

@testable import Agents

@Suite struct SchedulingQueueTests {
    static let second: UInt64 = 1_000_000_000

    @Test func higherPriorityFirstThenFirstInFirstOut() {
        var queue = SchedulingQueue()
        queue.add(SchedulerFixtures.pod("low-early", priority: 0), now: 1)
        queue.add(SchedulerFixtures.pod("high", priority: 100), now: 2)
        queue.add(SchedulerFixtures.pod("low-late", priority: 0), now: 3)
        #expect(queue.pop()?.info.name == "high")
        #expect(queue.pop()?.info.name == "low-early")
        #expect(queue.pop()?.info.name == "low-late")
        #expect(queue.pop() == nil)
    }

    @Test func backoffStartsAtOneSecondAndDoublesUpToTen() {
        let queue = SchedulingQueue()
        #expect((1...6).map { queue.backoffDuration(attempts: $0) / Self.second } == [1, 2, 4, 8, 10, 10])
    }

    @Test func aFailedPodWaitsOutItsBackoffBeforeItIsActiveAgain() throws {
        var queue = SchedulingQueue()
        queue.add(SchedulerFixtures.pod("p"), now: 0)
        let poppedpod = queue.pop()
        var pod = try #require(poppedpod)
        // An error always backs off: 1 s after the first attempt.
        queue.requeue(pod, awaitedEvents: .all, isError: true, cycle: queue.schedulingCycle, now: 10 * Self.second)
        #expect(queue.location(ofPod: pod.uid) == .backoff)
        queue.flushBackoff(now: 10 * Self.second + Self.second / 2)
        #expect(queue.pop() == nil)
        queue.flushBackoff(now: 11 * Self.second)
        let repoppedpod = queue.pop()
        pod = try #require(repoppedpod)
        #expect(pod.attempts == 2)
        // The second failure backs off 2 s.
        queue.requeue(pod, awaitedEvents: .all, isError: true, cycle: queue.schedulingCycle, now: 20 * Self.second)
        #expect(queue.nextBackoffExpiry == 22 * Self.second)
    }

    @Test func anUnschedulablePodMovesToActiveWhenANodeIsAdded() throws {
        var queue = SchedulingQueue()
        queue.add(SchedulerFixtures.pod("p"), now: 0)
        let poppedpod = queue.pop()
        let pod = try #require(poppedpod)
        queue.requeue(pod, awaitedEvents: [.nodeAdd, .nodeAllocatableChange], isError: false, cycle: queue.schedulingCycle, now: Self.second)
        #expect(queue.location(ofPod: pod.uid) == .unschedulable)
        // An event its rejecting plugins did not register for leaves it waiting.
        queue.move(.assignedPodAdd, now: 100 * Self.second)
        #expect(queue.location(ofPod: pod.uid) == .unschedulable)
        // Long after its back-off, a node appears: straight to active.
        queue.move(.nodeAdd, now: 100 * Self.second)
        #expect(queue.location(ofPod: pod.uid) == .active)
        #expect(queue.pop()?.uid == pod.uid)
    }

    @Test func aMovedPodStillBackingOffGoesToBackoff() throws {
        var queue = SchedulingQueue()
        queue.add(SchedulerFixtures.pod("p"), now: 0)
        let poppedpod = queue.pop()
        let pod = try #require(poppedpod)
        queue.requeue(pod, awaitedEvents: .nodeAdd, isError: false, cycle: queue.schedulingCycle, now: Self.second)
        queue.move(.nodeAdd, now: Self.second + 1)
        #expect(queue.location(ofPod: pod.uid) == .backoff)
        queue.flushBackoff(now: 2 * Self.second)
        #expect(queue.location(ofPod: pod.uid) == .active)
    }

    @Test func anEventDuringTheAttemptSendsTheFailedPodToBackoff() throws {
        var queue = SchedulingQueue()
        queue.add(SchedulerFixtures.pod("p"), now: 0)
        let poppedpod = queue.pop()
        let pod = try #require(poppedpod)
        let cycle = queue.schedulingCycle
        // A node arrived while the pod was being tried: it may fit now, so no long wait.
        queue.move(.nodeAdd, now: 1)
        queue.requeue(pod, awaitedEvents: .nodeAdd, isError: false, cycle: cycle, now: 2)
        #expect(queue.location(ofPod: pod.uid) == .backoff)
    }

    @Test func unschedulablePodsAreRetriedAfterFiveMinutesAnyway() throws {
        var queue = SchedulingQueue()
        queue.add(SchedulerFixtures.pod("p"), now: 0)
        let poppedpod = queue.pop()
        let pod = try #require(poppedpod)
        queue.requeue(pod, awaitedEvents: .nodeAdd, isError: false, cycle: queue.schedulingCycle, now: 0)
        queue.flushUnschedulableLeftovers(now: 299 * Self.second)
        #expect(queue.location(ofPod: pod.uid) == .unschedulable)
        queue.flushUnschedulableLeftovers(now: 300 * Self.second)
        #expect(queue.location(ofPod: pod.uid) == .active)
    }

    @Test func aSpecChangeRetriesAnUnschedulablePodButAStatusChangeDoesNot() throws {
        var queue = SchedulingQueue()
        let original = SchedulerFixtures.pod("p", cpu: "64")
        queue.add(original, now: 0)
        let poppedpod = queue.pop()
        let pod = try #require(poppedpod)
        queue.requeue(pod, awaitedEvents: .nodeAdd, isError: false, cycle: queue.schedulingCycle, now: 0)
        var statusOnly = original
        statusOnly.status = PodStatus(phase: "Pending", conditions: [PodCondition(type: "PodScheduled", status: "False")])
        statusOnly.metadata?.resourceVersion = "7"
        queue.update(statusOnly, now: 100 * Self.second)
        #expect(queue.location(ofPod: pod.uid) == .unschedulable)
        var smaller = statusOnly
        smaller.spec?.containers[0].resources = ResourceRequirements(requests: ["cpu": Quantity("1")])
        queue.update(smaller, now: 100 * Self.second)
        #expect(queue.location(ofPod: pod.uid) == .active)
        #expect(queue.pop()?.info.requests.milliCPU == 1000)
    }

    @Test func deletedPodsLeaveWhicheverSetHoldsThem() throws {
        var queue = SchedulingQueue()
        queue.add(SchedulerFixtures.pod("a"), now: 0)
        queue.add(SchedulerFixtures.pod("b"), now: 0)
        let popped = queue.pop()
        let first = try #require(popped)
        #expect(first.info.name == "a")
        queue.requeue(first, awaitedEvents: .nodeAdd, isError: false, cycle: queue.schedulingCycle, now: 0)
        #expect(queue.count == 2)
        #expect(queue.delete(uid: first.uid)?.info.name == "a")
        #expect(queue.delete(uid: "default-b-uid")?.info.name == "b")
        #expect(queue.count == 0)
        queue.move(.nodeAdd, now: 0)
        #expect(queue.pop() == nil)
    }
}
