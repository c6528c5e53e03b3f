import SlipwayACR
import Testing

/// The acr-task.yaml template renderer against a table of what Go's text/template with Sprig
/// (as acb configures it: missing keys render as nothing) produces for the same input.
struct GoTemplateTests {
    static let data: TemplateValue = .map([
        "Run": .map(["ID": .string("cb12"), "Registry": .string("reg.example.com"), "Date": .string("20261203-101500z")]),
        "Values": .map([
            "name": .string("Marie"), "empty": .string(""), "count": .int(3), "enabled": .bool(true), "ratio": .double(0.5),
            "tags": .list([.string("a"), .string("b")]), "nested": .map(["k": .string("v")]), "zero": .int(0),
        ]),
    ])
    /// 2026-12-03 10:15:30.25 UTC.
    static let functions = TemplateFunctions(now: { 1_796_292_930.25 })

    static let cases: [(String, String)] = [
        ("plain text, no actions", "plain text, no actions"),
        ("{{ .Run.ID }}", "cb12"),
        ("{{.Run.Registry}}/app:{{.Run.ID}}", "reg.example.com/app:cb12"),
        ("{{ .Values.missing }}", ""),
        ("{{ .Values.missing | default \"latest\" }}", "latest"),
        ("{{ .Values.empty | default \"x\" }}", "x"),
        ("{{ default \"x\" .Values.name }}", "Marie"),
        ("{{ .Values.name | upper }} {{ .Values.name | lower }}", "MARIE marie"),
        ("{{ .Values.name | quote }}", "\"Marie\""),
        ("{{ squote .Values.name }}", "'Marie'"),
        ("{{ \"  padded  \" | trim }}", "padded"),
        ("{{ replace \"-\" \"_\" \"a-b-c\" }}", "a_b_c"),
        ("{{ \"a-b\" | replace \"-\" \".\" }}", "a.b"),
        ("{{ b64enc \"hello\" }}", "aGVsbG8="),
        ("{{ b64dec \"aGVsbG8=\" }}", "hello"),
        ("{{ printf \"%s-%d\" .Values.name .Values.count }}", "Marie-3"),
        ("{{ printf \"%05.2f|%-4s|%q|%x\" .Values.ratio \"ab\" \"q\" 255 }}", "00.50|ab  |\"q\"|ff"),
        ("{{ printf \"%d\" }}", "%!d(MISSING)"),
        ("{{ now | date \"2006-01-02T15:04:05Z07:00\" }}", "2026-12-03T10:15:30Z"),
        ("{{ now | date \"20060102-150405\" }}z", "20261203-101530z"),
        ("{{ date \"Jan _2 3:04PM .000\" now }}", "Dec  3 10:15AM .250"),
        ("{{ if .Values.enabled }}on{{ else }}off{{ end }}", "on"),
        ("{{ if .Values.zero }}a{{ else if .Values.empty }}b{{ else }}c{{ end }}", "c"),
        ("{{ if and .Values.enabled (eq .Values.count 3) }}yes{{ end }}", "yes"),
        ("{{ if or .Values.empty .Values.missing }}yes{{ else }}no{{ end }}", "no"),
        ("{{ if not .Values.missing }}unset{{ end }}", "unset"),
        ("{{ if ne .Values.name \"Pierre\" }}ne{{ end }}{{ if lt .Values.count 4 }} lt{{ end }}{{ if ge .Values.ratio 0.5 }} ge{{ end }}", "ne lt ge"),
        ("{{ range .Values.tags }}[{{ . }}]{{ end }}", "[a][b]"),
        ("{{ range $i, $t := .Values.tags }}{{ $i }}={{ $t }} {{ end }}", "0=a 1=b "),
        ("{{ range .Values.missing }}x{{ else }}none{{ end }}", "none"),
        ("{{ range $k, $v := .Values.nested }}{{ $k }}:{{ $v }}{{ end }}", "k:v"),
        ("{{ with .Values.nested }}{{ .k }}{{ end }}", "v"),
        ("{{ with .Values.missing }}x{{ else }}no nested{{ end }}", "no nested"),
        ("{{ $r := .Run.Registry }}{{ $r }}/x{{ range .Values.tags }} {{ $r }}/{{ . }}{{ end }}", "reg.example.com/x reg.example.com/a reg.example.com/b"),
        ("{{ $.Run.ID }}", "cb12"),
        ("{{ len .Values.tags }} {{ index .Values.tags 1 }} {{ index .Values.nested \"k\" }}", "2 b v"),
        ("{{ join \",\" .Values.tags }}", "a,b"),
        ("{{ (index .Values.tags 0) | upper }}", "A"),
        ("a  {{- \" b \" -}}  c", "a b c"),
        ("line\n  {{- /* a comment */ -}}\n  next", "linenext"),
        ("{{/* only a comment */}}x", "x"),
        ("{{ .Values.count }} {{ .Values.ratio }} {{ .Values.enabled }} {{ .Values.tags }} {{ .Values.nested }}", "3 0.5 true [a b] map[k:v]"),
        ("{{ `raw \\n` }}", "raw \\n"),
        ("{{ print 1 2 \"a\" \"b\" 3 }}", "1 2ab3"),
        ("{{ ternary \"yes\" \"no\" .Values.enabled }} {{ coalesce .Values.empty .Values.name }}", "yes Marie"),
        ("{{ toJson .Values.nested }}", "{\"k\":\"v\"}"),
        ("{{ trimPrefix \"v\" \"v1.2\" }} {{ trimSuffix \".yaml\" \"a.yaml\" }} {{ contains \"ar\" .Values.name }}", "1.2 a true"),
    ]

    @Test(arguments: cases)
    func rendersAsGoDoes(template: String, expected: String) throws {
        let rendered = try GoTemplate(parsing: template, file: "t.yaml").render(Self.data, functions: Self.functions)
        #expect(rendered.text == expected, "\(template)")
    }

    /// Errors name the file and the line of the action, and say what is wrong.
    static let errors: [(String, String)] = [
        ("a\nb\n{{ .Run.ID", "t.yaml:3: template: unclosed action"),
        ("{{ if .Values.enabled }}x", "t.yaml:1: template: missing {{end}}"),
        ("x\n{{ end }}", "t.yaml:2: template: unexpected {{end}}"),
        ("{{ nosuch .Values.name }}", "t.yaml:1: template: function \"nosuch\" not defined"),
        ("\n{{ .Values.missing.deeper }}", "t.yaml:2: template: .Values.missing is not set, so .deeper cannot be read from it"),
        ("{{ .Values.name.first }}", "can't evaluate field first in string .Values.name"),
        ("{{ template \"x\" }}", "{{template}} is not supported"),
        ("{{ define \"x\" }}y{{ end }}", "{{define}} is not supported"),
        ("{{ \"unterminated }}", "unterminated string"),
        ("{{ $undefined }}", "undefined variable: $undefined"),
        ("{{ b64dec \"***\" }}", "error calling b64dec: '***' is not base64-encoded UTF-8 text"),
        ("{{ upper }}", "wrong number of args for upper: want 1 got 0"),
        ("{{ .Values.name 3 }}", "can't give argument to non-function .Values.name"),
        ("{{ range .Values.name }}{{ end }}", "range can't iterate over string Marie"),
        ("{{ | upper }}", "missing command before '|'"),
        ("{{ (upper \"a\" }}", "unclosed '('"),
    ]

    @Test(arguments: errors)
    func refusesWithTheLine(template: String, expected: String) {
        #expect {
            try GoTemplate(parsing: template, file: "t.yaml").render(Self.data, functions: Self.functions)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    /// A key that is not set renders as nothing, as acb does, and the renderer says so; a
    /// `default` that covers it does not warn.
    @Test func missingKeysAreWarnedAbout() throws {
        let template = try GoTemplate(parsing: "tag: {{ .Values.tag }}\nother: {{ .Values.other | default \"x\" }}\n", file: "t.yaml")
        let rendered = try template.render(Self.data, functions: Self.functions)
        #expect(rendered.text == "tag: \nother: x\n")
        #expect(rendered.warnings == ["t.yaml:1: .Values.tag is not set; it renders as nothing, as in acb"])
    }
}
