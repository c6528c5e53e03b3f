import Foundation

/// One `--secret` in buildx's forms, as `slipway build` and `slipway run` both take them:
/// `id=ID,src=FILE` (or `source=`), `id=ID,env=VAR`, with `type=file|env` naming the kind.
/// Where the value comes from is the command's business: a build mounts the file by path, a
/// run reads it.
struct SecretOption {
    enum Source: Equatable {
        case file(String)
        case variable(String)
    }

    var id: String
    /// nil when only the id (and no type) was given.
    var source: Source?

    /// What is wrong with an entry; each command says it with its own usage.
    struct Invalid: Error {
        var reason: String
    }

    /// - Throws: ``Invalid``.
    init(parsing entry: String) throws {
        var fields: [String: String] = [:]
        for field in entry.split(separator: ",") {
            guard let (key, value) = InputError.keyValue(String(field)), !value.isEmpty else {
                throw Invalid(reason: "expected id=ID,src=FILE or id=ID,env=VAR")
            }
            guard ["id", "src", "source", "env", "type"].contains(key) else { throw Invalid(reason: "unknown field '\(key)' (id, src, env, type)") }
            guard fields.updateValue(value, forKey: key) == nil else { throw Invalid(reason: "\(key) is given twice") }
        }
        guard let id = fields["id"], !id.isEmpty else { throw Invalid(reason: "needs id=") }
        let file = fields["src"] ?? fields["source"]
        let variable = fields["env"]
        if let kind = fields["type"], kind != "file", kind != "env" { throw Invalid(reason: "type=\(kind): expected file or env") }
        if file != nil && variable != nil { throw Invalid(reason: "give either src=FILE or env=VAR, not both") }
        self.id = id
        if let file = file ?? (fields["type"] == "file" ? id : nil) {
            source = .file(file)
        } else if let name = variable ?? (fields["type"] == "env" ? id : nil) {
            source = .variable(name)
        } else {
            source = nil
        }
    }
}
