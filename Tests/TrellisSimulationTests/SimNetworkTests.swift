// SimNetworkTests.swift — the simulated network's partitions: an isolated node (the laggard) stays cut off through
// the fault plan's partitions and heals until the end of the fault phase.
import Testing
@testable import TrellisSimulation

@Suite("Simulated network")
struct SimNetworkTests {
    @Test("An isolated node stays cut off through partitions and heals; the final heal reconnects it")
    func isolationOutlastsHeals() {
        var network = SimNetwork(nodes: 4, minDelayMilliseconds: 1, maxDelayMilliseconds: 2)
        var random = SimRandom(seed: 1)
        network.isolated = [0]
        network.partition([1], asymmetric: false)
        network.heal()  // a random heal of the fault plan: before, it reconnected the laggard too
        #expect(network.deliveries(from: 0, to: 2, random: &random).isEmpty)
        #expect(network.deliveries(from: 3, to: 0, random: &random).isEmpty)
        #expect(network.deliveries(from: 1, to: 2, random: &random).count == 1)
        network.isolated = []
        #expect(network.deliveries(from: 0, to: 2, random: &random).count == 1)
    }
}
