import Foundation

/// Server-rendered HTML: escaping, and the layout every page shares (the same navigation, a
/// page that reads without JavaScript and updates live with it).
enum HTML {
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A query or path component, percent-encoded.
    static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    enum Section: String, CaseIterable {
        case runs = "Runs", tasks = "Tasks", deps = "Dependencies"
        var path: String {
            switch self {
            case .runs: "/runs"
            case .tasks: "/tasks"
            case .deps: "/deps"
            }
        }
    }

    static func page(_ title: String, section: Section?, body: String) -> String {
        let navigation = Section.allCases.map { item in
            "<a href=\"\(item.path)\"\(item == section ? " class=\"current\" aria-current=\"page\"" : "")>\(item.rawValue)</a>"
        }.joined()
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Slipway</title><link rel="stylesheet" href="/static/style.css"><script src="/static/app.js" defer></script></head>
            <body><header><span class="brand">Slipway</span><nav>\(navigation)</nav></header>
            <main>\(body)</main></body></html>
            """
    }

    /// A form that POSTs to `action` with the CSRF token, as one button.
    static func button(_ label: String, action: String, csrf: String, style: String = "") -> String {
        """
        <form method="post" action="\(escape(action))" class="inline"><input type="hidden" name="csrf" value="\(escape(csrf))">\
        <button type="submit" class="\(style)">\(escape(label))</button></form>
        """
    }

    static func duration(from start: Date?, to end: Date?) -> String {
        guard let start else { return "" }
        let seconds = (end ?? Date()).timeIntervalSince(start)
        return seconds < 60 ? String(format: "%.2fs", seconds) : String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "" }
        return "<time datetime=\"\(date.formatted(.iso8601))\">\(date.formatted(.iso8601))</time>"
    }
}
