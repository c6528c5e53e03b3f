import Foundation
import CLua
import CLuaShim
import SlipwayKernel

/// The Lua-callable constructors: `pipeline { }`, `task { }` and one per plugin kind. They only
/// record values (no I/O, no plugin code); problems found later are reported together.
extension RecipeInterpreter {
    /// A constructor's error, raised in Lua as "file:line: what: detail".
    func raise(_ stack: LuaStack, _ what: String, _ detail: String) -> LuaRaise {
        let place = stack.location(level: 1).map { "\(resolveChunk($0.file)):\($0.line): " } ?? ""
        return LuaRaise(message: "\(place)\(what): \(detail)")
    }

    private func callerLocation(_ stack: LuaStack) -> SourceLocation {
        guard let place = stack.location(level: 1) else { return location(line: 0) }
        return SourceLocation(file: resolveChunk(place.file), line: place.line)
    }

    /// Reads the single table argument of a constructor named `what`.
    private func tableArgument(_ stack: LuaStack, _ what: String, functionsAllowed: Bool, positionalKey: String?)
        throws -> [String: ConfigValue]
    {
        guard stack.top == 1, stack.type(at: 1) == LUA_TTABLE else {
            let got = stack.top == 0 ? "no value" : stack.typeName(at: 1)
            throw raise(stack, what, "bad argument #1 (table expected, got \(got)); write \(what) { ... }")
        }
        do {
            let value = try readValue(
                at: 1, on: stack, path: [], functionsAllowed: functionsAllowed, positionalKey: positionalKey)
            return value.objectFields ?? [:]
        } catch let error as ConfigurationError {
            throw raise(stack, what, error.description)
        }
    }

    // MARK: Steps and triggers

    func construct(kind: String, role: PluginRegistry.Role, stack: LuaStack) throws -> Int32 {
        let location = callerLocation(stack)
        if role == .contextSource {
            return try constructContext(kind: kind, stack: stack)
        }
        if role == .trigger {
            var fields = try tableArgument(stack, kind, functionsAllowed: true, positionalKey: nil)
            var filter: HookReference?
            if let value = fields.removeValue(forKey: "filter") {
                guard case .hook(let ref) = value else { throw raise(stack, kind, "filter: expected a function, got \(value.typeName)") }
                filter = ref
            }
            // Checked where it is written, as a context source is: its initialiser only validates.
            do {
                _ = try registry.instantiate(kind, configuration: .object(fields))
            } catch {
                throw raise(stack, kind, "\(error)")
            }
            triggers.append(TriggerDefinition(kind: kind, configuration: .object(fields), filter: filter, location: location))
            pushHandle(makeHandle(.trigger, index: triggers.count - 1), on: stack)
            return 1
        }

        var fields = try tableArgument(stack, kind, functionsAllowed: false, positionalKey: "inputs")
        var options: [String: ConfigValue] = [:]
        for key in fields.keys where StepOptions.recipeKeys.contains(key) { options[key] = fields.removeValue(forKey: key) }

        let id: StepID
        switch options.removeValue(forKey: "id") {
        case .string(let text)?:
            guard Self.isValidStepID(text) else {
                throw raise(stack, kind, "id '\(text)' must start with a letter or digit and use only letters, digits, '_', '-' and '.'")
            }
            id = StepID(text)
        case nil, .null?:
            id = nextAutomaticID(for: kind)
        case let other?:
            throw raise(stack, kind, "id: expected a string, got \(other.typeName)")
        }

        var after: [StepID] = []
        switch options.removeValue(forKey: "after") {
        case nil, .null?: break
        case .step(let ref)?: after = [ref]
        case .string(let ref)?: after = [StepID(ref)]
        case .array(let items)?:
            for (offset, item) in items.enumerated() {
                switch item {
                case .step(let ref): after.append(ref)
                case .string(let ref): after.append(StepID(ref))
                default: throw raise(stack, kind, "after[\(offset + 1)]: expected a step or a step id, got \(item.typeName)")
                }
            }
        case let other?:
            throw raise(stack, kind, "after: expected a list of steps, got \(other.typeName)")
        }

        if let earlier = stepIndexByID[id] {
            throw raise(stack, kind, "id '\(id)' is already used by the step at \(steps[earlier].location); step ids must be unique")
        }
        stepIndexByID[id] = steps.count
        steps.append(
            PendingStep(
                id: id, kind: kind, configuration: .object(fields), options: .object(options), after: after,
                location: location))
        pushHandle(makeHandle(.step, index: steps.count - 1), on: stack)
        return 1
    }

    /// `git { url = …, ref = … }`, `tarball { url = … }`: the source's configuration is checked
    /// at once (its initialiser only validates, it does no I/O) and the constructor returns the
    /// locator it stands for, which `build { context = … }` takes like any locator text.
    private func constructContext(kind: String, stack: LuaStack) throws -> Int32 {
        let fields = try tableArgument(stack, kind, functionsAllowed: false, positionalKey: nil)
        let source: any PluginKind
        do {
            source = try registry.instantiate(kind, configuration: .object(fields))
        } catch {
            throw raise(stack, kind, "\(error)")
        }
        guard let located = source as? any ContextLocating else {
            throw raise(stack, kind, "this context source cannot be named in a recipe (it has no locator)")
        }
        stack.push(string: located.locator)
        return 1
    }

    static func isValidStepID(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCIIAlphanumeric else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "_-.".unicodeScalars.contains($0) }
            && text.count <= 128
    }

    /// `build-1`, `build-2`...: skipping ids the recipe already took.
    private func nextAutomaticID(for kind: String) -> StepID {
        let stem = kind.replacing(".", with: "-")
        var counter = autoIDCounters[stem, default: 0]
        var candidate: StepID
        repeat {
            counter += 1
            candidate = StepID("\(stem)-\(counter)")
        } while stepIndexByID[candidate] != nil
        autoIDCounters[stem] = counter
        return candidate
    }

    // MARK: pipeline { } and task { }

    private struct PipelineSpec: Decodable {
        var name: String?
        var steps: [StepID]
        var timeout: DurationValue?
        var onSuccess: HookReference?
        var onFailure: HookReference?
    }

    private struct TaskSpec: Decodable {
        var name: String
        var source: ConfigValue?
        var triggers: [ConfigValue]?
        var pipeline: HookReference
        var timeout: DurationValue?
        var onSuccess: HookReference?
        var onFailure: HookReference?
    }

    func constructPipeline(_ stack: LuaStack) throws -> Int32 {
        let fields = try tableArgument(stack, "pipeline", functionsAllowed: true, positionalKey: nil)
        let spec: PipelineSpec
        do {
            spec = try ConfigValueDecoder().decode(PipelineSpec.self, from: .object(fields))
        } catch let error as ConfigurationError {
            throw raise(stack, "pipeline", error.description)
        }
        let pipeline = assemble(
            name: spec.name ?? defaultName, roots: spec.steps, timeout: spec.timeout, onSuccess: spec.onSuccess,
            onFailure: spec.onFailure, location: callerLocation(stack))
        pipelines.append(pipeline)
        pushHandle(makeHandle(.pipeline, index: pipelines.count - 1), on: stack)
        return 1
    }

    func constructTask(_ stack: LuaStack) throws -> Int32 {
        let fields = try tableArgument(stack, "task", functionsAllowed: true, positionalKey: nil)
        let spec: TaskSpec
        do {
            spec = try ConfigValueDecoder().decode(TaskSpec.self, from: .object(fields))
        } catch let error as ConfigurationError {
            throw raise(stack, "task", error.description)
        }
        var taskTriggers: [TriggerDefinition] = []
        for (offset, value) in (spec.triggers ?? []).enumerated() {
            guard case .int(let index)? = value["$trigger"], value.objectFields?.count == 1, triggers.indices.contains(Int(index)) else {
                throw raise(stack, "task", "triggers[\(offset + 1)]: expected a trigger such as commit { ... }, got \(value.typeName)")
            }
            taskTriggers.append(triggers[Int(index)])
        }
        let task = TaskDefinition(
            name: spec.name, source: spec.source, triggers: taskTriggers, pipeline: spec.pipeline, timeout: spec.timeout,
            onSuccess: spec.onSuccess, onFailure: spec.onFailure, location: callerLocation(stack))
        tasks.append(task)
        pushHandle(makeHandle(.task, index: tasks.count - 1), on: stack)
        return 1
    }

    var defaultName: String {
        let file = recipePath.split(separator: "/").last.map(String.init) ?? recipePath
        return file.hasSuffix(".lua") ? String(file.dropLast(4)) : file
    }

    /// The pipeline made of `roots` and everything they depend on, in creation order. Steps the
    /// recipe created but did not include are reported as warnings; option problems are kept
    /// for validation, so every problem is reported together.
    func assemble(
        name: String, roots: [StepID], timeout: DurationValue?, onSuccess: HookReference?, onFailure: HookReference?,
        location: SourceLocation
    ) -> PipelineDefinition {
        var included = Set<Int>()
        var pending = roots.compactMap { stepIndexByID[$0] }
        for root in roots where stepIndexByID[root] == nil {
            pendingProblems.append(.init(location: location, step: root, message: "pipeline lists unknown step '\(root)'"))
        }
        while let index = pending.popLast() {
            guard included.insert(index).inserted else { continue }
            let step = steps[index]
            for dependency in step.after + step.configuration.stepReferences {
                if let next = stepIndexByID[dependency] { pending.append(next) }
            }
        }
        var definitions: [StepDefinition] = []
        for (index, step) in steps.enumerated() {
            guard included.contains(index) else {
                messages.append(
                    LogLine(step: nil, level: .warning, text: "\(step.location): step '\(step.id)' is not part of the pipeline (not listed and nothing depends on it)"))
                continue
            }
            var options = StepOptions()
            do {
                options = try ConfigValueDecoder().decode(StepOptions.self, from: step.options)
            } catch {
                pendingProblems.append(.init(location: step.location, step: step.id, message: String(describing: error)))
            }
            var dependencies: [StepID] = []
            for dependency in step.after + step.configuration.stepReferences where !dependencies.contains(dependency) {
                dependencies.append(dependency)
            }
            definitions.append(
                StepDefinition(
                    id: step.id, kind: step.kind, configuration: step.configuration, options: options,
                    dependencies: dependencies, location: step.location))
        }
        return PipelineDefinition(
            name: name, steps: definitions, timeout: timeout, onSuccess: onSuccess, onFailure: onFailure, location: location)
    }

    // MARK: Handles and logging

    /// `step.id`, `step.kind`.
    func handleIndex(_ stack: LuaStack) throws -> Int32 {
        guard let handle = handle(at: 1, on: stack), Handle.Tag(rawValue: handle.tag) == .step else {
            stack.pushNil()
            return 1
        }
        let step = steps[Int(handle.index)]
        switch stack.string(at: 2) {
        case "id": stack.push(string: step.id.rawValue)
        case "kind": stack.push(string: step.kind)
        default: throw raise(stack, "step '\(step.id)'", "has no field '\(stack.string(at: 2) ?? "?")' (steps expose id and kind)")
        }
        return 1
    }

    func handleToString(_ stack: LuaStack) throws -> Int32 {
        guard let handle = handle(at: 1, on: stack) else {
            stack.push(string: "slipway value")
            return 1
        }
        switch Handle.Tag(rawValue: handle.tag) {
        case .step: stack.push(string: "step '\(steps[Int(handle.index)].id)' (\(steps[Int(handle.index)].kind))")
        case .trigger: stack.push(string: "trigger (\(triggers[Int(handle.index)].kind))")
        case .pipeline: stack.push(string: "pipeline '\(pipelines[Int(handle.index)].name)'")
        case .task: stack.push(string: "task '\(tasks[Int(handle.index)].name)'")
        case nil: stack.push(string: "slipway value")
        }
        return 1
    }

    /// The host side of `log.*` and `print`: (level, text).
    func emitLog(_ stack: LuaStack) throws -> Int32 {
        let level = stack.string(at: 1).flatMap(LogLine.Level.init(rawValue:)) ?? .info
        let text = stack.string(at: 2) ?? ""
        let place = stack.location(level: 2).map { "\(resolveChunk($0.file)):\($0.line): " } ?? ""
        messages.append(LogLine(step: nil, level: level, text: level >= .warning ? place + text : text))
        return 0
    }

    /// `notify { url = "https://…", body = "text" or { … }, headers = { … } }` in an
    /// `on_success` / `on_failure` hook: a POST the host sends after the hook returns (a table
    /// body as JSON), retried, its outcome written to the run's log.
    func notify(_ stack: LuaStack) throws -> Int32 {
        guard notifications != nil else {
            throw raise(stack, "notify", "only on_success and on_failure hooks may notify (it runs when the run has ended)")
        }
        let fields = try tableArgument(stack, "notify", functionsAllowed: false, positionalKey: nil)
        guard case .string(let url)? = fields["url"], url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil else {
            throw raise(stack, "notify", "url: expected an http:// or https:// URL")
        }
        for key in fields.keys where !["url", "body", "headers"].contains(key) {
            throw raise(stack, "notify", "unknown key '\(key)' (expected url, body, headers)")
        }
        let body: Data
        let contentType: String
        switch fields["body"] {
        case nil: (body, contentType) = (Data(), "text/plain; charset=utf-8")
        case .string(let text)?: (body, contentType) = (Data(text.utf8), "text/plain; charset=utf-8")
        case let value?:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            (body, contentType) = (try encoder.encode(value), "application/json")
        }
        var headers: [String: String] = [:]
        if let given = fields["headers"] {
            guard case .object(let entries) = given else { throw raise(stack, "notify", "headers: expected a table of strings") }
            for (name, value) in entries {
                guard case .string(let text) = value, !name.isEmpty, !name.contains(where: { $0 == ":" || $0.isWhitespace }) else {
                    throw raise(stack, "notify", "headers: '\(name)' must be a header name with a string value")
                }
                headers[name] = text
            }
        }
        notifications?.append(NotificationRequest(url: url, body: body, contentType: contentType, headers: headers, location: callerLocation(stack)))
        return 0
    }
}
