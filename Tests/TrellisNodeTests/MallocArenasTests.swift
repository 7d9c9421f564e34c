// MallocArenasTests.swift — the malloc arena limit a node sets at start: the node's default unless the operator set
// MALLOC_ARENA_MAX, which glibc already applied and the node leaves alone.
import Testing
import TrellisNode

@Suite struct MallocArenasTests {
    @Test func theOperatorsChoiceIsLeftAlone() {
        #expect(MallocArenas.limit(environment: ["MALLOC_ARENA_MAX": "8"]) == .setByEnvironment("8"))
    }

    @Test func withoutAChoiceTheNodeLimitsTheArenas() {
        // Linux with glibc (the only platform the node is built for).
        #expect(MallocArenas.limit(environment: [:]) == .limited(MallocArenas.nodeDefault))
        #expect(MallocArenas.nodeDefault == 2)
    }
}
