extension GoTemplate {
    /// What rendering produced: the text, and warnings for keys that were missing (acb renders
    /// them as nothing; Slipway does too, and says so).
    public struct Rendering: Sendable {
        public var text: String
        public var warnings: [String]
    }

    /// Renders the template with `data` as `.` and `$`.
    /// - Throws: ``ACRTaskError`` with the line of the action that failed.
    public func render(_ data: TemplateValue, functions: TemplateFunctions = TemplateFunctions()) throws(ACRTaskError) -> Rendering {
        var renderer = Renderer(file: file, root: data, functions: functions)
        var output = ""
        try renderer.run(nodes, dot: data, into: &output)
        return Rendering(text: output, warnings: renderer.warnings)
    }

    struct Renderer {
        let file: String
        let root: TemplateValue
        let functions: TemplateFunctions
        var scopes: [[String: TemplateValue]] = [[:]]
        var warnings: [String] = []
        /// Keys found missing while evaluating the current action: warned about only when the
        /// action prints nothing because of them (`| default "x"` does not warn).
        var missing: [String] = []
        var line = 0

        init(file: String, root: TemplateValue, functions: TemplateFunctions) {
            self.file = file
            self.root = root
            self.functions = functions
        }

        func error(_ message: String) -> ACRTaskError { ACRTaskError(file: file, line: line, message: "template: " + message) }

        mutating func run(_ nodes: [Node], dot: TemplateValue, into output: inout String) throws(ACRTaskError) {
            for node in nodes {
                switch node {
                case .text(let text):
                    output += text
                case .action(let pipeline, let line):
                    self.line = line
                    missing = []
                    let value = try evaluate(pipeline, dot: dot)
                    // A declaration prints nothing, as in Go.
                    if pipeline.variables.isEmpty {
                        output += value.printed
                        if value == .null { warnings += missing }
                    }
                case .conditional(let kind, let pipeline, let body, let otherwise, let line):
                    self.line = line
                    scopes.append([:])
                    defer { scopes.removeLast() }
                    let value = try evaluate(pipeline, dot: dot, declaring: kind != .range)
                    switch kind {
                    case .if:
                        try run(value.isTruthy ? body : otherwise, dot: dot, into: &output)
                    case .with:
                        if value.isTruthy { try run(body, dot: value, into: &output) } else { try run(otherwise, dot: dot, into: &output) }
                    case .range:
                        let elements: [(TemplateValue, TemplateValue)]
                        switch value {
                        case .list(let items): elements = items.enumerated().map { (.int(Int64($0.offset)), $0.element) }
                        case .map(let fields): elements = fields.sorted { $0.key < $1.key }.map { (.string($0.key), $0.value) }
                        case .null: elements = []
                        default: throw error("range can't iterate over \(value.typeName) \(value.printed)")
                        }
                        if elements.isEmpty {
                            try run(otherwise, dot: dot, into: &output)
                        }
                        for (key, element) in elements {
                            switch pipeline.variables.count {
                            case 1: scopes[scopes.count - 1][pipeline.variables[0]] = element
                            case 2:
                                scopes[scopes.count - 1][pipeline.variables[0]] = key
                                scopes[scopes.count - 1][pipeline.variables[1]] = element
                            default: break
                            }
                            try run(body, dot: element, into: &output)
                        }
                    }
                }
            }
        }

        mutating func evaluate(_ pipeline: Pipeline, dot: TemplateValue, declaring: Bool = true) throws(ACRTaskError) -> TemplateValue {
            var result: TemplateValue?
            for command in pipeline.commands {
                result = try call(command, dot: dot, piped: result)
            }
            let value = result ?? .null
            if declaring, let name = pipeline.variables.first {
                if pipeline.assign {
                    guard let scope = scopes.lastIndex(where: { $0[name] != nil }) else { throw error("undefined variable: $\(name)") }
                    scopes[scope][name] = value
                } else {
                    scopes[scopes.count - 1][name] = value
                }
            }
            return value
        }

        mutating func call(_ command: [Operand], dot: TemplateValue, piped: TemplateValue?) throws(ACRTaskError) -> TemplateValue {
            guard let first = command.first else { throw error("empty command") }
            if case .function(let name) = first {
                var arguments: [TemplateValue] = []
                for operand in command.dropFirst() { arguments.append(try value(of: operand, dot: dot)) }
                if let piped { arguments.append(piped) }
                return try invoke(name, arguments)
            }
            guard command.count == 1, piped == nil else {
                throw error("can't give argument to non-function \(describe(first))")
            }
            return try value(of: first, dot: dot)
        }

        mutating func value(of operand: Operand, dot: TemplateValue) throws(ACRTaskError) -> TemplateValue {
            switch operand {
            case .literal(let value): return value
            case .field(let chain): return try walk(dot, chain, path: "")
            case .variable(let name, let chain):
                let base: TemplateValue
                if name.isEmpty {
                    base = root
                } else {
                    guard let scope = scopes.last(where: { $0[name] != nil }), let found = scope[name] else {
                        throw error("undefined variable: $\(name)")
                    }
                    base = found
                }
                return try walk(base, chain, path: "$" + name)
            case .function(let name): return try invoke(name, [])
            case .nested(let pipeline, let chain): return try walk(try evaluate(pipeline, dot: dot, declaring: false), chain, path: "(…)")
            }
        }

        /// `.A.B` from `value`: a missing key is nil (and a warning), a field of nil an error.
        mutating func walk(_ value: TemplateValue, _ chain: [String], path: String) throws(ACRTaskError) -> TemplateValue {
            var current = value
            var walked = path
            for (index, name) in chain.enumerated() {
                switch current {
                case .map(let fields):
                    if let next = fields[name] {
                        current = next
                    } else {
                        current = .null
                        if index == chain.count - 1 {
                            missing.append("\(file):\(line): \(walked).\(name) is not set; it renders as nothing, as in acb")
                        }
                    }
                case .null:
                    throw error("\(walked) is not set, so .\(name) cannot be read from it")
                default:
                    throw error("can't evaluate field \(name) in \(current.typeName) \(walked)")
                }
                walked += "." + name
            }
            return current
        }

        func invoke(_ name: String, _ arguments: [TemplateValue]) throws(ACRTaskError) -> TemplateValue {
            guard let function = functions.table[name] else { throw error("function \"\(name)\" not defined") }
            do {
                return try function(arguments)
            } catch let failure as TemplateFunctions.Failure {
                throw self.error("error calling \(name): \(failure.message)")
            } catch {
                throw self.error("error calling \(name): \(error)")
            }
        }

        func describe(_ operand: Operand) -> String {
            switch operand {
            case .literal(let value): value.printed
            case .field(let chain): "." + chain.joined(separator: ".")
            case .variable(let name, let chain): "$" + name + chain.map { "." + $0 }.joined()
            case .function(let name): name
            case .nested: "(…)"
            }
        }
    }
}
