import CLibUV

/// AllocatorTuning sets glibc malloc up for long-running servers, once at process start.
///
/// With glibc's defaults the heap top is returned to the kernel whenever 128 KiB are free, and
/// blocks from 128 KiB up get their own mappings, so a process whose working set rises and
/// falls with bursts (decoded objects, read buffers, watch fan-out) faults in and clears every
/// page again each time it grows back: 9% of the API server's CPU while 30,000 pods were
/// scheduled (`perf record -g`: `clear_page_erms` under `sysmalloc`), 2% after this change.
/// Peak memory is unchanged — memory is kept mapped after a burst, not taken earlier.
public enum AllocatorTuning {
    /// Free memory at the heap top kept mapped before it is returned to the kernel.
    public static let trimThreshold: Int32 = 256 << 20
    /// Extra bytes requested whenever the heap grows, so growth happens in few large steps.
    public static let topPad: Int32 = 16 << 20
    /// Blocks at least this large get their own mapping (glibc's largest allowed value).
    public static let mmapThreshold: Int32 = 32 << 20

    /// Applies the settings; call before the process starts its threads. False when glibc
    /// refused one (the process still works with the defaults).
    @discardableResult
    public static func applyServerDefaults() -> Bool {
        skiff_tune_allocator(trimThreshold, topPad, mmapThreshold) == 1
    }
}
