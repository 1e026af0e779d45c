import Foundation

/// JobTable is `kubectl get jobs` as of Kubernetes 1.32: NAME STATUS COMPLETIONS DURATION AGE,
/// and for `-o wide` CONTAINERS IMAGES SELECTOR.
enum JobTable {
    static let definition = TableDefinition(
        Job.self,
        columns: [
            .name,
            TableColumn("Status", description: "Status of the job."),
            TableColumn("Completions", description: "The number of pods which reached phase Succeeded."),
            TableColumn("Duration", description: "Time required to complete the job."),
            .age, .containers, .images, .selector,
        ]
    ) { job, now in
        let spec = job.spec ?? JobSpec()
        let (names, images) = TableCells.containers(spec.template?.spec?.containers ?? [])
        return [
            TableCells.name(job), .string(status(job)), .string(completions(job)), .string(duration(job, now: now)),
            TableCells.age(job, now), .string(names), .string(images), .string(TableCells.selector(spec.selector)),
        ]
    }

    /// Complete, Failed, Terminating, Suspended, FailureTarget or Running, in that precedence.
    static func status(_ job: Job) -> String {
        let conditions = job.status?.conditions ?? []
        /// The first condition of a type decides, as in Kubernetes.
        func holds(_ type: String) -> Bool { conditions.first { $0.type == type }?.status == "True" }
        if holds("Complete") { return "Complete" }
        if holds("Failed") { return "Failed" }
        if job.metadata?.deletionTimestamp != nil { return "Terminating" }
        if holds("Suspended") { return "Suspended" }
        if holds("FailureTarget") { return "FailureTarget" }
        return "Running"
    }

    /// "1/3" (succeeded of completions); without completions "0/1", or "0/1 of 4" when
    /// several pods run in parallel.
    static func completions(_ job: Job) -> String {
        let succeeded = job.status?.succeeded ?? 0
        if let completions = job.spec?.completions { return "\(succeeded)/\(completions)" }
        let parallelism = job.spec?.parallelism ?? 0
        return parallelism > 1 ? "\(succeeded)/1 of \(parallelism)" : "\(succeeded)/1"
    }

    /// From start to completion, or to now while running; "" before the job starts.
    static func duration(_ job: Job, now: Date) -> String {
        guard let started = job.status?.startTime?.seconds else { return "" }
        let ended = job.status?.completionTime?.seconds ?? Int64(now.timeIntervalSince1970)
        return TableDefinitions.humanDuration(seconds: ended - started)
    }
}
