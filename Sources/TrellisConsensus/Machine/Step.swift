// Step.swift — the steps of a Tendermint round (Algorithm 1, line 4), timeouts and their durations.
//
// Timeout durations grow linearly with the round (base + round · delta) so that after GST the timeouts eventually
// exceed the message delay, which is what Algorithm 1 needs for liveness.
import TrellisCodec

/// `step_p ∈ {propose, prevote, precommit}`, ordered as the paper compares them (`step_p ≥ prevote`).
public enum Step: UInt8, Sendable, Hashable, Comparable, CanonicalCodable, CustomStringConvertible {
    case propose = 1
    case prevote = 2
    case precommit = 3

    public static func < (lhs: Step, rhs: Step) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .propose: return "propose"
        case .prevote: return "prevote"
        case .precommit: return "precommit"
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(rawValue) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        guard let step = Step(rawValue: tag) else { throw .unknownTag(type: "Step", tag: tag) }
        self = step
    }
}

/// A (height, round, step) position. Ordered as signatures must follow each other.
public struct RoundStep: Sendable, Hashable, Comparable, CanonicalCodable, CustomStringConvertible {
    public var height: UInt64
    public var round: UInt32
    public var step: Step

    public init(height: UInt64, round: UInt32, step: Step) {
        self.height = height
        self.round = round
        self.step = step
    }

    public static func < (a: RoundStep, b: RoundStep) -> Bool {
        (a.height, a.round, a.step.rawValue) < (b.height, b.round, b.step.rawValue)
    }

    public var description: String { "(h=\(height), r=\(round), \(step))" }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(height)
        encoder.encode(round)
        encoder.encode(step)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.decodeUInt64()
        round = try decoder.decodeUInt32()
        step = try decoder.decode(Step.self)
    }
}

/// A timeout the replica schedules and later feeds back: OnTimeoutPropose/Prevote/Precommit(height, round), with
/// `step` naming which (line 57, 61 or 65).
public typealias Timeout = RoundStep

/// Timeout durations in milliseconds: `base + round · delta` for each step.
public struct TimeoutConfig: Sendable, Hashable {
    public var proposeBaseMilliseconds: UInt64
    public var proposeDeltaMilliseconds: UInt64
    public var prevoteBaseMilliseconds: UInt64
    public var prevoteDeltaMilliseconds: UInt64
    public var precommitBaseMilliseconds: UInt64
    public var precommitDeltaMilliseconds: UInt64

    public init(proposeBaseMilliseconds: UInt64 = 3000, proposeDeltaMilliseconds: UInt64 = 500,
                prevoteBaseMilliseconds: UInt64 = 1000, prevoteDeltaMilliseconds: UInt64 = 500,
                precommitBaseMilliseconds: UInt64 = 1000, precommitDeltaMilliseconds: UInt64 = 500) {
        self.proposeBaseMilliseconds = proposeBaseMilliseconds
        self.proposeDeltaMilliseconds = proposeDeltaMilliseconds
        self.prevoteBaseMilliseconds = prevoteBaseMilliseconds
        self.prevoteDeltaMilliseconds = prevoteDeltaMilliseconds
        self.precommitBaseMilliseconds = precommitBaseMilliseconds
        self.precommitDeltaMilliseconds = precommitDeltaMilliseconds
    }

    /// timeoutPropose(round), timeoutPrevote(round) or timeoutPrecommit(round) in milliseconds (saturating).
    public func duration(_ step: Step, round: UInt32) -> UInt64 {
        let (base, delta): (UInt64, UInt64)
        switch step {
        case .propose: (base, delta) = (proposeBaseMilliseconds, proposeDeltaMilliseconds)
        case .prevote: (base, delta) = (prevoteBaseMilliseconds, prevoteDeltaMilliseconds)
        case .precommit: (base, delta) = (precommitBaseMilliseconds, precommitDeltaMilliseconds)
        }
        let (grow, overflow) = delta.multipliedReportingOverflow(by: UInt64(round))
        let (total, overflow2) = base.addingReportingOverflow(grow)
        return overflow || overflow2 ? UInt64.max : total
    }
}
