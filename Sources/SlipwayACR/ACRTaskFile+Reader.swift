import Foundation
import SlipwayKernel
import Yams

extension ACRTaskFile {
    /// Walks the rendered YAML, keeping each node's line for errors and step locations.
    struct Reader {
        let file: String
        let aliases: ACRAliases?
        let contextRoot: ContextRoot?
        var secretIDs: [String] = []
        var maskedValues: [String] = []
        var stepTimeout = ACRTaskFile.defaultStepTimeout
        var workingDirectory: String?
        var environment: [String] = []
        var network = ACRTaskFile.defaultNetwork
        /// Secret volumes: name → (file name → contents).
        var volumes: [String: [String: String]] = [:]

        init(file: String, aliases: ACRAliases?, contextRoot: ContextRoot?) {
            self.file = file
            self.aliases = aliases
            self.contextRoot = contextRoot
        }

        func fail(_ node: Node?, _ message: String) -> ACRTaskError {
            ACRTaskError(file: file, line: node?.mark?.line ?? 1, message: message)
        }

        func location(_ node: Node) -> SourceLocation { SourceLocation(file: file, line: node.mark?.line ?? 1) }

        // MARK: Values

        func string(_ node: Node, _ key: String) throws -> String {
            guard let scalar = node.scalar else { throw fail(node, "\(key): expected text") }
            return scalar.string
        }

        func bool(_ node: Node, _ key: String) throws -> Bool {
            guard let flag = node.bool else { throw fail(node, "\(key): expected true or false") }
            return flag
        }

        func seconds(_ node: Node, _ key: String) throws -> Int64 {
            guard let number = node.int, number >= 0 else { throw fail(node, "\(key): expected a number of seconds") }
            return Int64(number)
        }

        func count(_ node: Node, _ key: String) throws -> Int {
            guard let number = node.int, number >= 0 else { throw fail(node, "\(key): expected a whole number, 0 or more") }
            return number
        }

        func strings(_ node: Node, _ key: String) throws -> [String] {
            if let scalar = node.scalar { return [scalar.string] }
            guard let items = node.sequence else { throw fail(node, "\(key): expected a list") }
            return try items.map { try string($0, key) }
        }

        func environment(_ node: Node, _ key: String) throws -> [String] {
            let entries = try strings(node, key)
            for entry in entries where !entry.contains("=") || entry.hasPrefix("=") {
                throw fail(node, "\(key): '\(entry)' is not KEY=VALUE")
            }
            return entries
        }

        // MARK: Task

        mutating func pipeline(from root: Node.Mapping, name: String) throws -> PipelineDefinition {
            var stepsNode: Node?
            for (key, value) in root {
                let name = key.string ?? ""
                switch name {
                case "version", "alias": break  // read before rendering
                case "stepTimeout": stepTimeout = try seconds(value, name)
                case "workingDirectory": workingDirectory = try string(value, name)
                case "env": environment = try self.environment(value, name)
                case "secrets": try readSecrets(value)
                case "networks": try readNetworks(value)
                case "volumes": try readVolumes(value)
                case "steps": stepsNode = value
                case "totalTimeout":
                    throw fail(key, "totalTimeout: acr-task.yaml has no such property; give the run's limit with slipway run's recipe or --timeout of the task")
                default:
                    throw fail(key, "unknown task property '\(name)' (version, stepTimeout, workingDirectory, env, secrets, networks, volumes, alias, steps)")
                }
            }
            guard let stepsNode, let items = stepsNode.sequence, !items.isEmpty else {
                throw fail(stepsNode, "steps: expected a list of steps")
            }
            var steps: [StepDefinition] = []
            var ids = Set<StepID>()
            var builtBy: [String: StepID] = [:]
            for (index, item) in items.enumerated() {
                let step = try self.step(item, index: index, previous: steps.last?.id, builtBy: builtBy)
                guard ids.insert(step.id).inserted else { throw fail(item, "id '\(step.id)' is used by an earlier step") }
                if step.kind == "build", case .array(let tags)? = step.configuration["tags"] {
                    for case .string(let tag) in tags { builtBy[Self.normalized(tag)] = step.id }
                }
                steps.append(step)
            }
            for step in steps {
                for dependency in step.dependencies where !ids.contains(dependency) {
                    throw ACRTaskError(file: file, line: step.location.line, message: "when: no step has the id '\(dependency)'")
                }
            }
            return PipelineDefinition(name: name, steps: steps, location: SourceLocation(file: file, line: 1))
        }

        private mutating func readSecrets(_ node: Node) throws {
            guard let items = node.sequence else { throw fail(node, "secrets: expected a list of { id: … }") }
            for item in items {
                guard let fields = item.mapping else { throw fail(item, "secrets: expected { id: … }") }
                var id: String?
                for (key, value) in fields {
                    switch key.string ?? "" {
                    case "id": id = try string(value, "id")
                    case "keyvault", "clientID":
                        throw fail(key, "secrets: \(key.string ?? ""): Slipway has no Key Vault; give the secret with slipway run --secret id=NAME,env=VAR or id=NAME,src=FILE")
                    case let other: throw fail(key, "secrets: unknown key '\(other)'")
                    }
                }
                guard let id, !id.isEmpty, !id.contains(" ") else { throw fail(item, "secrets: each needs an id without spaces") }
                guard !secretIDs.contains(id) else { throw fail(item, "secrets: id '\(id)' is declared twice") }
                secretIDs.append(id)
            }
        }

        private mutating func readNetworks(_ node: Node) throws {
            guard let items = node.sequence else { throw fail(node, "networks: expected a list") }
            guard items.count <= 1 else {
                throw fail(node, "networks: Slipway gives each run one network (with every step id as a name on it); several networks are not supported")
            }
            for item in items {
                guard let fields = item.mapping else { throw fail(item, "networks: expected { name: … }") }
                for (key, value) in fields {
                    switch key.string ?? "" {
                    case "name": network = try string(value, "name")
                    case "driver":
                        let driver = try string(value, "driver")
                        guard driver == "bridge" else { throw fail(value, "networks: driver '\(driver)': the run network is a bridge") }
                    case "isDefault": guard try bool(value, "isDefault") else { throw fail(value, "networks: the one network is the default") }
                    case "ipv6", "skipCreation":
                        if try bool(value, key.string ?? "") { throw fail(key, "networks: \(key.string ?? "") is not supported; the run network is made for the run, IPv4 only") }
                    case let other: throw fail(key, "networks: unknown key '\(other)'")
                    }
                }
            }
        }

        private mutating func readVolumes(_ node: Node) throws {
            guard let items = node.sequence else { throw fail(node, "volumes: expected a list") }
            for item in items {
                guard let fields = item.mapping, let nameNode = fields["name"] else { throw fail(item, "volumes: each needs a name") }
                let name = try string(nameNode, "name")
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                    throw fail(nameNode, "volumes: '\(name)' is not a volume name (letters, digits, '-', '_')")
                }
                guard let secret = fields["secret"]?.mapping, fields.count == 2 else {
                    throw fail(item, "volumes: only secret volumes are supported, as in acb: { name: …, secret: { file: base64 } }")
                }
                var files: [String: String] = [:]
                for (key, value) in secret {
                    let fileName = try string(key, "secret")
                    guard !fileName.isEmpty, !fileName.contains("/"), fileName != ".", fileName != ".." else {
                        throw fail(key, "volumes: '\(fileName)' is not a file name")
                    }
                    guard let data = Data(base64Encoded: try string(value, fileName)), let text = String(data: data, encoding: .utf8) else {
                        throw fail(value, "volumes: \(fileName): the value must be base64-encoded UTF-8 text")
                    }
                    files[fileName] = text
                    if !text.isEmpty { maskedValues.append(text) }
                }
                volumes[name] = files
            }
        }

        static func normalized(_ image: String) -> String {
            let last = image.split(separator: "/").last ?? ""
            return last.contains(":") || image.contains("@") ? image : image + ":latest"
        }
    }
}
