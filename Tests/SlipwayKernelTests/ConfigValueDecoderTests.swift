import SlipwayKernel
import Testing

struct ConfigValueDecoderTests {
    struct Sample: Decodable, Equatable {
        var name: String
        var retryDelay: DurationValue?
        var tags: [String] = []
        var count: Int?

        enum CodingKeys: String, CodingKey { case name, retryDelay, tags, count }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            retryDelay = try c.decodeIfPresent(DurationValue.self, forKey: .retryDelay)
            tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
            count = try c.decodeIfPresent(Int.self, forKey: .count)
        }
    }

    @Test func decodesSnakeCaseKeysIntoCamelCaseFields() throws {
        let value: ConfigValue = .object(["name": .string("x"), "retry_delay": .string("1m30s"), "tags": .array([.string("a")])])
        let sample = try ConfigValueDecoder().decode(Sample.self, from: value)
        #expect(sample.name == "x")
        #expect(sample.retryDelay?.duration == .seconds(90))
        #expect(sample.tags == ["a"])
    }

    @Test func rejectsUnknownKeysWithTheirPath() {
        let value: ConfigValue = .object(["name": .string("x"), "tgas": .array([])])
        #expect {
            try ConfigValueDecoder().decode(Sample.self, from: value, path: [.key("steps"), .index(2)])
        } throws: { error in
            (error as? ConfigurationError)?.description == "steps[2]: unknown key 'tgas'"
        }
    }

    @Test func reportsTypeMismatchesWithOneBasedListPositions() {
        let value: ConfigValue = .object(["name": .string("x"), "tags": .array([.string("a"), .int(3)])])
        #expect {
            try ConfigValueDecoder().decode(Sample.self, from: value)
        } throws: { error in
            (error as? ConfigurationError)?.description == "tags[2]: expected a string, got number"
        }
    }

    @Test func reportsMissingRequiredKeys() {
        #expect {
            try ConfigValueDecoder().decode(Sample.self, from: .object([:]))
        } throws: { error in
            (error as? ConfigurationError)?.description == "name: required key is missing"
        }
    }

    @Test func acceptsIntegralDoublesAsIntegersButNotFractions() throws {
        let whole = try ConfigValueDecoder().decode(Sample.self, from: .object(["name": .string("x"), "count": .double(3)]))
        #expect(whole.count == 3)
        #expect(throws: ConfigurationError.self) {
            try ConfigValueDecoder().decode(Sample.self, from: .object(["name": .string("x"), "count": .double(3.5)]))
        }
    }

    @Test func emptyTableDecodesAsEmptyListOrMap() throws {
        let sample = try ConfigValueDecoder().decode(Sample.self, from: .object(["name": .string("x"), "tags": .object([:])]))
        #expect(sample.tags.isEmpty)
        let options = try ConfigValueDecoder().decode(StepOptions.self, from: .array([]))
        #expect(options.retries == 0)
    }

    @Test func stepReferencesDecodeAsStepIDs() throws {
        let ids = try ConfigValueDecoder().decode([StepID].self, from: .array([.step("build-1"), .string("tests")]))
        #expect(ids == ["build-1", "tests"])
    }

    @Test func stepOptionsRejectNegativeCounts() {
        #expect(throws: ConfigurationError.self) {
            try ConfigValueDecoder().decode(StepOptions.self, from: .object(["retries": .int(-1)]))
        }
    }

    @Test(arguments: [
        ("30s", Duration.seconds(30)), ("1m30s", .seconds(90)), ("500ms", .milliseconds(500)), ("2h", .seconds(7200)),
        ("10", .seconds(10)), ("1.5", .milliseconds(1500)),
    ])
    func parsesDurations(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "s", "10x", "-3s", "1m-2s", "ten seconds"])
    func rejectsMalformedDurations(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func formatsDurations() {
        #expect(DurationText.format(.seconds(90)) == "1m30s")
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
        #expect(DurationText.format(.zero) == "0s")
    }
}
