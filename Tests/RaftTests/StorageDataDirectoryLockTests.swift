// DataDirectoryLock: one process per data directory.
import Foundation
import Glibc
import Testing

@testable import Raft

@Suite struct StorageDataDirectoryLockTests {
    @Test func secondLockInTheSameProcessIsRefusedWithOurPid() throws {
        let directory = TemporaryDirectory()
        let first = try DataDirectoryLock(dataDirectory: directory.path)
        let error = storageError { _ = try DataDirectoryLock(dataDirectory: directory.path) }
        #expect(error == .directoryInUse(path: directory.path, holderProcessID: getpid()))
        #expect(error?.description
            == "data directory \(directory.path) is in use by another process (pid \(getpid())); stop it or choose another --data-dir")
        _ = first
    }

    @Test func lockIsReleasedWhenTheHolderGoes() throws {
        let directory = TemporaryDirectory()
        do { _ = try DataDirectoryLock(dataDirectory: directory.path) }
        _ = try DataDirectoryLock(dataDirectory: directory.path)
        #expect(String(decoding: RawFile.read(directory.path + "/LOCK"), as: UTF8.self) == "\(getpid())\n")
    }

    /// Needs the real kernel: a child process (util-linux flock) takes the lock and writes its pid.
    @Test func realKernelLockHeldByAnotherProcessIsRefused() throws {
        let directory = TemporaryDirectory()
        let lockPath = directory.path + "/LOCK"
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        // --no-fork: flock takes the lock and execs the shell in the same process, so the pid the
        // shell writes is the child's, and terminating the child releases the lock at once.
        child.arguments = ["--no-fork", "-n", lockPath, "/bin/sh", "-c", "echo $$ > '\(lockPath)'; exec sleep 30"]
        try child.run()
        defer { stop(child) }
        let expected = "\(child.processIdentifier)\n"
        var waitedMilliseconds = 0
        while String(decoding: RawFile.read(lockPath), as: UTF8.self) != expected && waitedMilliseconds < 10_000 {
            usleep(10_000)
            waitedMilliseconds += 10
        }
        let error = storageError { _ = try DataDirectoryLock(dataDirectory: directory.path) }
        #expect(error == .directoryInUse(path: directory.path, holderProcessID: child.processIdentifier))
        #expect(error?.description.contains("is in use by another process (pid \(child.processIdentifier))") == true)
        stop(child)
        _ = try DataDirectoryLock(dataDirectory: directory.path)
    }

    /// SIGKILL, not terminate(): a test runner may ignore SIGTERM, and children inherit that.
    private func stop(_ child: Process) {
        if child.isRunning {
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
    }

    /// Needs the real kernel: while this process holds the lock, another process cannot take it.
    @Test func realKernelLockHeldHereRefusesAnotherProcess() throws {
        let directory = TemporaryDirectory()
        let lock = try DataDirectoryLock(dataDirectory: directory.path)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        child.arguments = ["-n", "-E", "75", directory.path + "/LOCK", "/bin/true"]
        try child.run()
        child.waitUntilExit()
        #expect(child.terminationStatus == 75)
        _ = lock
    }
}
