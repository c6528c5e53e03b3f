import SlipwayDockerfile

extension Dockerfile {
    /// ARGs before the first FROM: defaults, overridden by build arguments.
    /// - Parameter automatic: values every Dockerfile has without declaring them (the platform
    ///   ARGs); a global ARG or build argument of the same name wins.
    func globalArgValues(buildArgs: [String: String], automatic: [String: String] = [:]) throws -> [String: String] {
        var values = automatic
        for instruction in globalArgs {
            for (key, value) in try instruction.keyValues(ShellWords(escape: escape, environment: values)) {
                if let given = buildArgs[key] { values[key] = given } else if let value { values[key] = value }
            }
        }
        return values
    }

    /// The target and every stage it uses (FROM another stage, COPY --from), in order.
    func stages(neededFor target: Stage) -> [Stage] {
        var needed = Set<Int>()
        var pending = [target.index]
        while let index = pending.popLast() {
            guard needed.insert(index).inserted else { continue }
            pending += dependencies(of: stages[index])
        }
        return stages.filter { needed.contains($0.index) }
    }

    /// The earlier stages a stage uses: its FROM, and the sources of COPY --from.
    func dependencies(of stage: Stage) -> Set<Int> {
        var references = [stage.base.lowercased()]
        references += stage.instructions.compactMap { $0.keyword == .copy || $0.keyword == .add ? $0.flag("from")?.lowercased() : nil }
        // RUN --mount=from=STAGE needs that stage too (a malformed mount is reported by the RUN).
        for instruction in stage.instructions where instruction.keyword == .run {
            for flag in instruction.flags where flag.name == "mount" {
                if let from = (try? RunMount.parse(flag.value ?? "") { $0 })?.from { references.append(from.lowercased()) }
            }
        }
        var result = Set<Int>()
        for reference in references {
            if let other = stages.first(where: { $0.name == reference && $0.index < stage.index }) {
                result.insert(other.index)
            } else if let number = Int(reference), number < stage.index, number >= 0 {
                result.insert(number)
            }
        }
        return result
    }
}
