// UnixTimeText.swift — Unix seconds as a person reads them: "1796617944 (2026-12-05 08:32:24 UTC)" at a terminal
// and in the offline certificates' text; `Int64.min` / `Int64.max`, the open ends of a query's period, as "(any)".
// Only for people: JSON answers and everything hashed keep the integer.
import TrellisLedger

public enum UnixTimeText {
    /// The proleptic Gregorian UTC date and time of `seconds`, "YYYY-MM-DD HH:MM:SS UTC", or nil outside years
    /// 1…9999 (a value that is not a date in any sense a reader means).
    public static func utc(_ seconds: Int64) -> String? {
        // Seconds of 0001-01-01T00:00:00Z and of 10000-01-01T00:00:00Z.
        guard seconds >= -62_135_596_800, seconds < 253_402_300_800 else { return nil }
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = CivilCalendar.date(ofDay: days)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return "\(yearText)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) UTC"
    }

    /// "SECONDS (DATE UTC)"; "(any)" for the open ends `Int64.min` and `Int64.max`; the bare number when it is no date.
    public static func labelled(_ seconds: Int64) -> String {
        if seconds == .min || seconds == .max { return "(any)" }
        guard let date = utc(seconds) else { return "\(seconds)" }
        return "\(seconds) (\(date))"
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let (q, r) = a.quotientAndRemainder(dividingBy: b)
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
