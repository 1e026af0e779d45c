import Foundation

/// Where the built executables live: the same folder as the test bundle's build products.
enum BuildProducts {
    static var directory: URL {
        var url = Bundle.main.bundleURL
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("agentctl").path) { return url }
            url.deleteLastPathComponent()
        }
        return Bundle.main.bundleURL
    }
}
