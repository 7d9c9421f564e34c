// ProcessMemory.swift — this process's resident memory, for the `trellis_process_resident_bytes` gauge (Linux:
// /proc/self/statm; nil elsewhere).
import Foundation

enum ProcessMemory {
    /// Resident bytes now (statm's second field × the page size), or nil when /proc is not there.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
