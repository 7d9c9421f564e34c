// PrometheusText.swift — a strict reader of the Prometheus text exposition format (0.0.4) for tests: every line is a
// `# HELP`/`# TYPE` comment or a sample `name{label="value",…} number`; every sample belongs to a family with a
// `# TYPE`, histograms have cumulative `_bucket` series ending in `le="+Inf"` equal to `_count`. Anything else is an
// error naming the line, so a test that scrapes `/metrics` checks the format, not only a substring.

/// One sample of an exposition.
public struct PrometheusSample: Sendable, Equatable {
    public let name: String
    public let labels: [String: String]
    public let value: Double
}

/// Why an exposition does not parse.
public struct PrometheusTextError: Error, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "exposition line \(line): \(reason)" }
}

/// A parsed exposition.
public struct PrometheusText: Sendable {
    public let samples: [PrometheusSample]
    /// Family name → type (`counter`, `gauge`, `histogram`, `summary`, `untyped`).
    public let types: [String: String]

    public init(_ text: String) throws(PrometheusTextError) {
        var samples: [PrometheusSample] = []
        var types: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Substring(raw)
            let number = index + 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3)
                if parts.count >= 2, parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])) else {
                        throw PrometheusTextError(line: number, reason: "malformed TYPE line: \(line)")
                    }
                    guard types[String(parts[2])] == nil else { throw PrometheusTextError(line: number, reason: "second TYPE for \(parts[2])") }
                    types[String(parts[2])] = String(parts[3])
                }
                continue
            }
            samples.append(try Self.sample(line, number: number))
        }
        for sample in samples where Self.family(of: sample.name, types: types) == nil {
            throw PrometheusTextError(line: 0, reason: "sample \(sample.name) has no TYPE line")
        }
        self.samples = samples
        self.types = types
        try checkHistograms()
    }

    /// The samples named `name` whose labels include `labels`.
    public func samples(_ name: String, _ labels: [String: String] = [:]) -> [PrometheusSample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }
    }

    /// The single sample named `name` with exactly `labels`, if any.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    private static func family(of name: String, types: [String: String]) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    private static func sample(_ line: Substring, number: Int) throws(PrometheusTextError) -> PrometheusSample {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        guard let first = name.first, first.isLetter || first == "_" || first == ":",
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }) else {
            throw PrometheusTextError(line: number, reason: "invalid metric name in: \(line)")
        }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { throw PrometheusTextError(line: number, reason: "label without value in: \(line)") }
                let key = String(rest[..<equals])
                guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                    throw PrometheusTextError(line: number, reason: "invalid label name \"\(key)\" in: \(line)")
                }
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw PrometheusTextError(line: number, reason: "unquoted label value in: \(line)") }
                rest = rest.dropFirst()
                var value = ""
                var closed = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if c == "\\" {
                        guard let escaped = rest.first else { break }
                        rest = rest.dropFirst()
                        switch escaped {
                        case "n": value.append("\n")
                        case "\\", "\"": value.append(escaped)
                        default: throw PrometheusTextError(line: number, reason: "invalid escape in: \(line)")
                        }
                    } else if c == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(c)
                    }
                }
                guard closed else { throw PrometheusTextError(line: number, reason: "unterminated label value in: \(line)") }
                guard labels.updateValue(value, forKey: key) == nil else { throw PrometheusTextError(line: number, reason: "label \(key) twice in: \(line)") }
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" {
                    throw PrometheusTextError(line: number, reason: "expected , or } in: \(line)")
                }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw PrometheusTextError(line: number, reason: "no value in: \(line)") }
        let fields = rest.split(separator: " ")
        guard fields.count == 1 || fields.count == 2 else { throw PrometheusTextError(line: number, reason: "expected value [timestamp] in: \(line)") }
        let text = String(fields[0])
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let v = Double(text) else { throw PrometheusTextError(line: number, reason: "value \"\(text)\" is not a number in: \(line)") }
            value = v
        }
        return PrometheusSample(name: name, labels: labels, value: value)
    }

    /// Every histogram series: buckets cumulative (never decreasing with `le`), the last `+Inf`, equal to `_count`.
    private func checkHistograms() throws(PrometheusTextError) {
        for (family, type) in types where type == "histogram" {
            var series: [[String: String]: [(le: Double, count: Double)]] = [:]
            for sample in samples where sample.name == family + "_bucket" {
                guard let leText = sample.labels["le"] else { throw PrometheusTextError(line: 0, reason: "\(family)_bucket without le") }
                let le = leText == "+Inf" ? Double.infinity : Double(leText)
                guard let le else { throw PrometheusTextError(line: 0, reason: "\(family)_bucket le=\"\(leText)\" is not a number") }
                var key = sample.labels
                key["le"] = nil
                series[key, default: []].append((le, sample.value))
            }
            for (labels, buckets) in series {
                let sorted = buckets.sorted { $0.le < $1.le }
                guard sorted.last?.le == .infinity else { throw PrometheusTextError(line: 0, reason: "\(family)\(labels) has no +Inf bucket") }
                for (a, b) in zip(sorted, sorted.dropFirst()) where b.count < a.count {
                    throw PrometheusTextError(line: 0, reason: "\(family)\(labels) buckets decrease at le=\(b.le)")
                }
                guard let count = value(family + "_count", labels), count == sorted.last?.count else {
                    throw PrometheusTextError(line: 0, reason: "\(family)\(labels): _count differs from the +Inf bucket")
                }
            }
        }
    }
}
