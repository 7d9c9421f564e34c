// TokenBucket.swift — rate limits with a burst (pure: the caller passes the time; nothing here reads a clock).
//
// `TokenBucket` bounds a peer's messages and bytes per second; `LogThrottle` bounds how often one kind of log line
// is written, so a flood of refused connections cannot flood the log (the next line written says how many were
// left out).

/// `ratePerSecond` tokens accrue per second, up to `burst`; a take that finds too few fails and takes nothing.
struct TokenBucket: Sendable {
    let ratePerSecond: Double
    let burst: Double
    private(set) var tokens: Double
    private var lastNanoseconds: UInt64

    /// Starts full.
    init(ratePerSecond: Int, burst: Int, nowNanoseconds: UInt64) {
        precondition(ratePerSecond > 0, "token bucket rate must be positive, got \(ratePerSecond)")
        precondition(burst > 0, "token bucket burst must be positive, got \(burst)")
        self.ratePerSecond = Double(ratePerSecond)
        self.burst = Double(burst)
        self.tokens = Double(burst)
        self.lastNanoseconds = nowNanoseconds
    }

    /// Takes `count` tokens if there are that many after refilling to `nowNanoseconds`.
    mutating func take(_ count: Int, nowNanoseconds: UInt64) -> Bool {
        precondition(count >= 0, "token count must not be negative, got \(count)")
        if nowNanoseconds > lastNanoseconds {
            let elapsedSeconds = Double(nowNanoseconds - lastNanoseconds) / 1e9
            tokens = min(burst, tokens + elapsedSeconds * ratePerSecond)
            lastNanoseconds = nowNanoseconds
        }
        guard Double(count) <= tokens else { return false }
        tokens -= Double(count)
        return true
    }
}

/// At most `burst` lines per category, refilled at `linesPerSecond`; counts what it suppresses.
struct LogThrottle: Sendable {
    static let linesPerSecond = 1
    static let burst = 5

    private var buckets: [String: TokenBucket] = [:]
    private var suppressed: [String: Int] = [:]

    /// nil: do not log this one. Otherwise log it, saying that the returned number of lines were left out before it.
    mutating func permit(_ category: String, nowNanoseconds: UInt64) -> Int? {
        var bucket = buckets[category] ?? TokenBucket(ratePerSecond: Self.linesPerSecond, burst: Self.burst, nowNanoseconds: nowNanoseconds)
        defer { buckets[category] = bucket }
        guard bucket.take(1, nowNanoseconds: nowNanoseconds) else {
            suppressed[category, default: 0] += 1
            return nil
        }
        return suppressed.removeValue(forKey: category) ?? 0
    }
}
