import SlipwayKernel
import Testing

struct SecretMaskerTests {
    @Test func masksEveryOccurrenceLongestFirst() {
        let masker = SecretMasker(secrets: ["hunter2", "hunter2-extended"])
        #expect(masker.mask("a hunter2-extended b hunter2") == "a *** b ***")
    }

    @Test func masksEachLineOfAMultiLineSecret() {
        let masker = SecretMasker(secrets: ["-----BEGIN KEY-----\nabcdef123\n-----END KEY-----"])
        #expect(masker.mask("line: abcdef123") == "line: ***")
    }

    @Test func leavesTextWithoutSecretsAlone() {
        #expect(SecretMasker(secrets: [""]).mask("nothing here") == "nothing here")
    }
}
