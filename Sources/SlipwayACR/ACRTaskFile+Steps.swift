import Foundation
import SlipwayKernel
import Yams

extension ACRTaskFile.Reader {
    /// Properties by step type, as acb allows them.
    static let common: Set<String> = ["id", "when", "timeout", "startDelay", "retries", "retryDelay", "ignoreErrors", "repeat"]
    static let cmdOnly: Set<String> = [
        "detach", "entryPoint", "env", "expose", "ports", "network", "privileged", "pull", "user", "workingDirectory",
        "volumeMounts", "disableWorkingDirectoryOverride", "keep", "isolation",
    ]
    /// Properties refused whatever their value (`keep` and `isolation` only when they ask for
    /// something other than what Slipway does anyway).
    static let refused: [String: String] = [
        "cache": "registry build caches (cache: enabled) are not supported; Slipway's builds cache layers in its store",
        "cpus": "CPU limits are not supported yet",
        "retryOnErrors": "retrying on output text is not supported; use retries",
        "exitedWith": "exitedWith is parsed by acb but never used; Slipway refuses it rather than ignore it",
        "exitedWithout": "exitedWithout is parsed by acb but never used; Slipway refuses it rather than ignore it",
        "secret": "a step-level secret is not an acb property; declare secrets at the top and use {{.Secrets.id}}",
    ]

    mutating func step(_ node: Node, index: Int, previous: StepID?, builtBy: [String: StepID]) throws -> StepDefinition {
        guard let fields = node.mapping else { throw fail(node, "steps: each step is a mapping with build, push or cmd") }
        let types = fields.keys.compactMap(\.string).filter { ["build", "push", "cmd"].contains($0) }
        guard types.count == 1, let type = types.first else {
            throw fail(node, "a step has exactly one of build, push or cmd\(types.isEmpty ? "" : " (this one has \(types.joined(separator: ", ")))")")
        }
        var id = StepID("acb_step_\(index)")
        var options = StepOptions()
        options.timeout = DurationValue(.seconds(stepTimeout))
        var when: [String]?
        var configuration: [String: ConfigValue] = [:]
        var stepEnvironment: [String]?
        var network: Node?
        var mounts: [(name: String, path: String, node: Node)] = []
        var keepImageWorkdir = false
        var workdir: String?
        var typeNode = node

        for (key, value) in fields {
            let name = key.string ?? ""
            if let reason = Self.refused[name] { throw fail(key, "\(name): \(reason)") }
            if name != type, !Self.common.contains(name) {
                guard Self.cmdOnly.contains(name) else { throw fail(key, "unknown step property '\(name)'") }
                guard type == "cmd" || (type == "build" && name == "network") else {
                    throw fail(key, "\(name): only cmd steps take it, this is a \(type) step")
                }
            }
            switch name {
            case "build":
                typeNode = value
                do {
                    let command = try DockerBuildCommand(try string(value, "build"))
                    configuration.merge(command.fields) { _, new in new }
                } catch let refusal as DockerBuildCommand.Refusal {
                    throw fail(value, refusal.message)
                }
            case "push":
                typeNode = value
                let images = try strings(value, "push")
                guard !images.isEmpty else { throw fail(value, "push: no images") }
                configuration["tags"] = .array(images.map { .string($0) })
            case "cmd":
                typeNode = value
                let words: [String]
                do {
                    words = try CommandWords.split(try string(value, "cmd"))
                } catch {
                    throw fail(value, "cmd: an unterminated quote")
                }
                guard let first = words.first else { throw fail(value, "cmd: no image") }
                let image = aliases?.image(first) ?? first
                // The alias may carry arguments of its own (purge).
                let imageWords = (try? CommandWords.split(image)) ?? [image]
                let reference = imageWords.first ?? image
                if let builder = builtBy[Self.normalized(reference)] {
                    configuration["image"] = .step(builder)
                } else {
                    configuration["image"] = .string(reference)
                }
                let arguments = Array(imageWords.dropFirst()) + Array(words.dropFirst())
                if !arguments.isEmpty { configuration["args"] = .array(arguments.map { .string($0) }) }
            case "id":
                let text = try string(value, name)
                guard !text.isEmpty, !text.contains(" ") else { throw fail(value, "id: '\(text)' must not be empty or contain spaces") }
                id = StepID(text)
            case "when": when = try strings(value, name)
            case "timeout": options.timeout = DurationValue(.seconds(try seconds(value, name)))
            case "startDelay": options.startDelay = DurationValue(.seconds(try seconds(value, name)))
            case "retries": options.retries = try count(value, name)
            case "retryDelay": options.retryDelay = DurationValue(.seconds(try seconds(value, name)))
            case "ignoreErrors": options.ignoreErrors = try bool(value, name)
            case "repeat": options.repeat = try count(value, name)
            case "detach": options.detach = try bool(value, name)
            case "entryPoint": configuration["entrypoint"] = .array([.string(try string(value, name))])
            case "env": stepEnvironment = try environment(value, name)
            case "expose": configuration["expose"] = .array(try strings(value, name).map { .string($0) })
            case "ports": configuration["ports"] = .array(try strings(value, name).map { .string($0) })
            case "network": network = value
            case "privileged": configuration["privileged"] = .bool(try bool(value, name))
            case "pull": configuration["pull"] = .bool(try bool(value, name))
            case "user": configuration["user"] = .string(try string(value, name))
            case "workingDirectory": workdir = try string(value, name)
            case "disableWorkingDirectoryOverride": keepImageWorkdir = try bool(value, name)
            case "keep":
                if try bool(value, name) { throw fail(key, "keep: Slipway removes every container of a run when it ends; keep is not supported") }
            case "isolation":
                if try string(value, name) != "default" { throw fail(key, "isolation: isolation is a Windows container setting") }
            case "volumeMounts":
                guard let items = value.sequence else { throw fail(value, "volumeMounts: expected a list of { name, mountPath }") }
                for item in items {
                    guard let mount = item.mapping, let nameNode = mount["name"], let pathNode = mount["mountPath"], mount.count == 2 else {
                        throw fail(item, "volumeMounts: each is { name: …, mountPath: … }")
                    }
                    mounts.append((try string(nameNode, "name"), try string(pathNode, "mountPath"), item))
                }
            default: break
            }
        }
        // Dependencies: acb's `when` (without it, the step before in the file), and the build a
        // push or cmd takes its image from.
        var dependencies: [StepID] = []
        switch when {
        case nil: dependencies = previous.map { [$0] } ?? []
        case ["-"]?: dependencies = []
        case let names?:
            guard !names.contains("-") else { throw fail(node, "when: \"-\" cannot be mixed with step ids") }
            guard !names.contains(id.rawValue) else { throw fail(node, "when: step '\(id)' cannot wait for itself") }
            dependencies = names.map { StepID($0) }
        }

        switch type {
        case "push":
            guard case .array(let images)? = configuration["tags"] else { break }
            var inputs: [StepID] = []
            for case .string(let image) in images {
                guard let builder = builtBy[Self.normalized(image)] else {
                    throw fail(typeNode, "push: \(image) is not built by a build step before this one (-t \(image))")
                }
                if !inputs.contains(builder) { inputs.append(builder) }
            }
            guard inputs.count == 1 else {
                throw fail(typeNode, "push: these images come from \(inputs.count) build steps; give each build's images their own push step")
            }
            configuration["inputs"] = .array(inputs.map { .step($0) })
            // acb tries each push three times.
            options.retries = max(options.retries, 2)
            if options.retryDelay == nil { options.retryDelay = DurationValue(.seconds(5)) }
        case "cmd":
            // acb ends a run with `docker rm -f`: services get no grace period.
            if options.detach { configuration["stop_timeout"] = .int(0) }
            let merged = Self.merge(environment, stepEnvironment ?? [])
            if !merged.isEmpty {
                options.env = merged.reduce(into: [String: String]()) { result, entry in
                    let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                    result[parts[0]] = parts.count > 1 ? parts[1] : ""
                }
            }
            if let network {
                let name = try string(network, "network")
                switch name {
                case self.network: break
                case "host", "none": configuration["network"] = .string(name)
                default:
                    throw fail(network, "network: '\(name)' is not this task's network (\(self.network)), host or none")
                }
            }
            if let workdir {
                configuration["workdir"] = .string(workdir)
            } else if keepImageWorkdir {
                configuration["image_workdir"] = .bool(true)
            } else if let workingDirectory {
                configuration["workdir"] = .string(workingDirectory)
            }
            var files: [String: ConfigValue] = [:]
            for mount in mounts {
                guard let volume = volumes[mount.name] else { throw fail(mount.node, "volumeMounts: no volume named '\(mount.name)'") }
                guard mount.path.hasPrefix("/") else { throw fail(mount.node, "volumeMounts: mountPath must be absolute") }
                for (fileName, text) in volume {
                    let target = (mount.path as NSString).appendingPathComponent(fileName)
                    guard files[target] == nil else { throw fail(mount.node, "volumeMounts: \(target) is mounted twice") }
                    files[target] = .string(text)
                }
            }
            if !files.isEmpty { configuration["files"] = .object(files) }
        case "build":
            if let network {
                let name = try string(network, "network")
                switch name {
                case self.network, "host": configuration["network"] = .string("host")
                case "none": configuration["network"] = .string("none")
                default: throw fail(network, "network: '\(name)' is not this task's network (\(self.network)), host or none")
                }
            }
            if stepEnvironment != nil { throw fail(node, "env: a build step takes build arguments (--build-arg), not an environment") }
            // acb builds in the task's working directory; Slipway's relative contexts are relative
            // to where slipway run starts, so another directory would silently change the context.
            if let workingDirectory, workingDirectory != "/workspace", case .string(let context)? = configuration["context"],
                !context.hasPrefix("/"), !context.contains("://"), !context.hasPrefix("workspace:")
            {
                throw fail(typeNode, "build: the context '\(context)' is relative, and the task's workingDirectory is \(workingDirectory); Slipway resolves relative contexts where slipway run starts, so give the context's path from there")
            }
            if let contextRoot, case .string(let context)? = configuration["context"], ContextRoot.isRelative(context) {
                guard let resolved = contextRoot.resolve(context) else {
                    throw fail(typeNode, "build: the context '\(context)' climbs out of the task's source (\(contextRoot.locator))")
                }
                configuration["context"] = .string(resolved)
            }
        default: break
        }
        return StepDefinition(
            id: id, kind: type, configuration: .object(configuration), options: options, dependencies: Self.unique(dependencies + configuration.stepReferences),
            location: location(typeNode))
    }

    /// Task env then step env; on a clash the step wins, as in acb.
    static func merge(_ task: [String], _ step: [String]) -> [String] {
        let stepKeys = Set(step.map { String($0.prefix { $0 != "=" }) })
        return task.filter { !stepKeys.contains(String($0.prefix { $0 != "=" })) } + step
    }

    static func unique(_ ids: [StepID]) -> [StepID] {
        var seen = Set<StepID>()
        return ids.filter { seen.insert($0).inserted }
    }
}

extension Dictionary where Key == String, Value == ConfigValue {
    fileprivate var stepReferences: [StepID] { ConfigValue.object(self).stepReferences }
}
