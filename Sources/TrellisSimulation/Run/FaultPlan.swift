// FaultPlan.swift — the faults of one run, drawn from the seed: partitions, loss, duplication, crashes.
//
// Every fault starts and ends inside the fault phase [0, faultPhase); at its end a final heal restores a
// reliable network (delays only) and every crashed node restarts. Crashes may strike in the middle of a step
// (between any two of its I/O operations), which is what tests the persist-before-broadcast rule, and several
// validators (up to all) may crash at the same instant, which is what tests WAL replay: locks and the votes
// already signed must come back, or the restarted validators may never gather a quorum again.

/// One scheduled change of the world.
enum FaultAction: Sendable, CustomStringConvertible {
    case partition(Set<Int>, asymmetric: Bool)
    /// Each directed link blocked independently with this probability (‰).
    case flakyLinks(permille: UInt64)
    case heal
    /// These nodes are cut off from all others until the end of the fault phase, whatever else heals (the laggard).
    case isolate(Set<Int>)
    case setLoss(permille: UInt64)
    case setDuplicate(permille: UInt64)
    case crash(node: Int, midStep: Bool)
    case restart(node: Int)
    /// Several validators (up to all) crash at the same instant, each losing its unsynced WAL tail.
    case crashTogether(Set<Int>)
    case restartTogether(Set<Int>)
    /// Ends the fault phase: heal, no loss, no duplication, everyone restarted.
    case healAll
    /// The node crashes for good: it never restarts and is left out of the liveness check (the evidence witness).
    case retire(node: Int)

    var description: String {
        switch self {
        case .partition(let group, let asymmetric):
            return "\(asymmetric ? "asymmetric" : "symmetric") partition \(group.sorted()) | rest"
        case .flakyLinks(let p): return "flaky links: each direction blocked with \(p)‰"
        case .heal: return "heal partitions"
        case .isolate(let group): return "isolate \(group.sorted()) until the end of the fault phase"
        case .setLoss(let p): return "loss \(p)‰"
        case .setDuplicate(let p): return "duplication \(p)‰"
        case .crash(let n, let mid): return "crash n\(n)\(mid ? " (mid-step)" : "")"
        case .restart(let n): return "restart n\(n)"
        case .crashTogether(let group): return "crash together \(group.sorted())"
        case .restartTogether(let group): return "restart together \(group.sorted())"
        case .healAll: return "end of fault phase: heal everything"
        case .retire(let n): return "n\(n) crashes for good"
        }
    }
}

enum FaultPlan {
    /// Timed actions for a run, sorted by time (ties keep generation order).
    static func make(config: SimulationConfig, random: inout SimRandom) -> [(time: UInt64, action: FaultAction)] {
        let phase = config.faultPhaseMilliseconds
        var plan: [(time: UInt64, action: FaultAction)] = []
        guard config.faults, phase >= 1_000 else { return [(phase, .healAll)] }
        plan.append((0, .setDuplicate(permille: random.uint(in: 0...100))))
        let faultCount = random.int(in: 1...5)
        for _ in 0..<faultCount {
            let start = random.uint(in: 0...(phase - 600))
            let end = min(phase - 1, start + random.uint(in: 200...(phase / 2)))
            switch random.below(6) {
            case 0:
                plan.append((start, .flakyLinks(permille: random.uint(in: 100...500))))
                plan.append((end, .heal))
            case 1, 2:
                var group = Set<Int>()
                let size = random.int(in: 1...(config.validators - 1))
                while group.count < size { group.insert(random.int(in: 0...(config.validators - 1))) }
                plan.append((start, .partition(group, asymmetric: random.chance(permille: 300))))
                plan.append((end, .heal))
            case 3:
                plan.append((start, .setLoss(permille: random.uint(in: 50...500))))
                plan.append((end, .setLoss(permille: 0)))
            case 5:
                // Several at once, up to all of them: the network halts until they are back.
                var group = Set<Int>()
                let size = random.int(in: 2...config.validators)
                while group.count < size { group.insert(random.int(in: 0...(config.validators - 1))) }
                plan.append((start, .crashTogether(group)))
                plan.append((min(phase - 1, start + random.uint(in: 100...1_500)), .restartTogether(group)))
            default:
                let node = random.int(in: 0...(config.validators - 1))
                plan.append((start, .crash(node: node, midStep: random.chance(permille: 500))))
                plan.append((end, .restart(node: node)))
            }
        }
        plan.append((phase, .healAll))
        return plan.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
    }
}
