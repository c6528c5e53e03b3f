import SlipwayDockerfile
import SlipwayKernel
import Testing

/// The shell lexer's BuildKit semantics, one behaviour class per test, on fixtures of our own.
/// (BuildKit's own tables are run by `Scripts/buildkit-conformance.sh`, not committed.)
struct ShellLexerSemanticsTests {
    let words = ShellWords(environment: [
        "PORTS": "80 443/udp", "FILE": "archive.tar.gz", "PATHS": "/usr/local/bin:/usr/bin", "SPACED": "  a  b  ", "EMPTY": "",
    ])

    /// Unquoted expansions split into words after expansion; quoted ones do not.
    @Test func unquotedExpansionsSplitIntoWords() throws {
        #expect(try words.words("$PORTS") == ["80", "443/udp"])
        #expect(try words.words("\"$PORTS\"") == ["80 443/udp"])
        #expect(try words.words("x${SPACED}y") == ["x", "a", "b", "y"])
        #expect(try words.words("x\"${SPACED}\"y") == ["x  a  b  y"])
        // One word keeps the expansion whole.
        #expect(try words.word("$PORTS") == "80 443/udp")
    }

    @Test(arguments: [
        ("${FILE#*.}", "tar.gz"), ("${FILE##*.}", "gz"), ("${FILE%.*}", "archive.tar"), ("${FILE%%.*}", "archive"),
        ("${FILE#nomatch}", "archive.tar.gz"), ("${FILE%\\*}", "archive.tar.gz"), ("${FILE#?}", "rchive.tar.gz"),
        ("${PATHS/usr/opt}", "/opt/local/bin:/usr/bin"), ("${PATHS//usr/opt}", "/opt/local/bin:/opt/bin"),
        ("${PATHS//\\/usr/}", "/local/bin:/bin"), ("${PATHS/*:/}", "/usr/bin"), ("${MISSING/a/b}", ""),
    ])
    func patternRemovalAndReplacement(text: String, expected: String) throws {
        #expect(try words.word(text) == expected)
    }

    @Test func positionalAndSpecialParametersAreUnset() throws {
        for text in ["$1", "${1}", "$9x", "$@", "$*", "$#", "$?", "$$", "$!", "$0", "$-", "${12}"] {
            #expect(try words.word(text).isEmpty || text == "$9x", "\(text)")
        }
        #expect(try words.word("$9x") == "x")
        #expect(try words.word("${1:-first}") == "first")
        #expect(try words.word("${#:-count}") == "count")
    }

    /// The word of `${X:-…}` ends at the first `}`: braces do not nest.
    @Test func bracesInsideAnExpansionDoNotNest() throws {
        #expect(try words.word("${MISSING:-a{b}") == "a{b")
        #expect(try words.word("${MISSING:-a{b}}") == "a{b}")
        #expect(try words.word("${MISSING:-${EMPTY:-inner}}") == "inner")
        #expect(throws: ShellWords.Failure.self) { try words.word("${MISSING:-a ${FILE}") }
    }

    @Test func malformedSubstitutionsAreErrorsThatSayWhy() {
        for (text, message) in [
            ("${}", "bad substitution"), ("${:-x}", "bad substitution"), ("${FILE:=x}", "unsupported modifier (:=)"),
            ("${FILE:#x}", "unsupported modifier (:#)"), ("${FILE", "missing '}'"), ("${FILE/x", "missing '/'"),
            ("${MISSING?}", "MISSING: is not allowed to be unset"), ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
            ("${FILE#\\x}", "invalid escape"),
        ] {
            #expect {
                try words.word(text)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }

    /// An escaped escape is a literal escape; an escape at the very end is dropped.
    @Test func escapesOfEscapes() throws {
        #expect(try words.word(#"a\\$FILE"#) == #"a\archive.tar.gz"#)
        #expect(try words.word(#"a\"#) == "a")
        #expect(try words.word(#""a\\b""#) == #"a\b"#)
        #expect(try words.word(#""a\b""#) == #"a\b"#)
    }

    /// Heredoc bodies expand variables but keep their quotes (BuildKit's SkipProcessQuotes).
    @Test func heredocBodiesKeepTheirQuotes() throws {
        var body = words
        body.skipProcessQuotes = true
        #expect(try body.word("say \"$FILE\" and '$EMPTY'\n") == "say \"archive.tar.gz\" and ''\n")
    }
}

/// The Dockerfile grammar's BuildKit semantics, on Dockerfiles of our own, compared through
/// the s-expressions BuildKit's parser tests print.
struct DockerfileGrammarSemanticsTests {
    func expressions(_ text: String) throws -> [String] { try SyntaxTree.parse(text).nodes.map { "(\($0.sExpression))" } }

    @Test func legacyLabelAndEnvTakeTheRestOfTheLine() throws {
        #expect(try expressions("LABEL owner Team Blue \"ops@example.org\"\nENV PATH /opt/bin:$PATH\n") == [
            #"(label "owner" "Team Blue \"ops@example.org\"" "")"#, #"(env "PATH" "/opt/bin:$PATH" "")"#,
        ])
        let file = try Dockerfile.parse("FROM scratch\nLABEL owner Team Blue \"ops@example.org\"\n")
        let pairs = try file.stages[0].instructions[0].keyValues(ShellWords(environment: [:]))
        #expect(pairs.map(\.key) == ["owner"])
        #expect(pairs.map(\.value) == ["Team Blue ops@example.org"])
        #expect(throws: DockerfileError.self) { try SyntaxTree.parse("ENV ONLYNAME\n") }
        // Words split on blanks before expansion, even inside ${…}, as in BuildKit.
        let split = #expect(throws: DockerfileError.self) { try SyntaxTree.parse("ENV A=${B:-two words}\n") }
        #expect(split?.description == "Dockerfile:1: ENV: Syntax error - can't find = in \"words}\". Must be of the form: name=value")
    }

    /// Every instruction may carry leading flags; the semantic layer refuses the ones it
    /// does not take, with the line.
    @Test func flagsAreReadOnEveryInstruction() throws {
        #expect(try expressions("CMD --verbose [\"a\"]\nCOPY --chown=\"1 2\" -- --odd /dst\n") == [
            #"(cmd ["--verbose"] "a")"#, #"(copy ["--chown=1 2"] "--odd" "/dst")"#,
        ])
        let error = #expect(throws: DockerfileError.self) { try Dockerfile.parse("FROM scratch\nCMD --verbose [\"a\"]\n") }
        #expect(error?.location.line == 2)
        #expect(error?.description.contains("unknown flag --verbose") == true)
    }

    /// A line ending in an escaped escape does not continue; one ending in a single escape
    /// (blanks after it allowed) does; comment and blank lines inside a continuation vanish.
    @Test func continuationRules() throws {
        #expect(try expressions("ENV A=trailing\\\\\nRUN next\n") == [#"(env "A" "trailing\\\\" "=")"#, #"(run "next")"#])
        #expect(try expressions("RUN one \\  \n# note\n\n  two\n") == [#"(run "one   two")"#])
        #expect(try expressions("RUN a \\\r\n  b\r\nCMD c\r\n") == [#"(run "a   b")"#, #"(cmd "c")"#])
    }

    /// `<<` inside quotes or an arithmetic expansion is not a heredoc; `3<<EOF`, `<< EOF` and
    /// `<<-EOF` are.
    @Test func heredocMarkersAreWordsOfTheirOwn() throws {
        let arithmetic = try SyntaxTree.parse("RUN echo $((1<<2)) \"<<NOT\" '<<NOR'\nCMD done\n")
        #expect(arithmetic.nodes.count == 2)
        #expect(arithmetic.nodes[0].heredocs.isEmpty)
        let real = try SyntaxTree.parse("RUN cat 3<<ONE << TWO <<-'THREE'\nfirst\nONE\nsecond\nTWO\n\t\tthird\n\tTHREE\nCMD done\n")
        #expect(real.nodes.count == 2)
        #expect(real.nodes[0].heredocs.map(\.name) == ["ONE", "TWO", "THREE"])
        #expect(real.nodes[0].heredocs.map(\.fileDescriptor) == [3, 0, 0])
        #expect(real.nodes[0].heredocs.map(\.expands) == [true, true, false])
        #expect(real.nodes[0].heredocs.map(\.content) == ["first\n", "second\n", "third\n"])
        #expect(real.nodes[1].startLine == 8)
        // JSON-form RUN has no heredocs.
        #expect(try SyntaxTree.parse("RUN [\"cat\", \"<<EOF\"]\n").nodes[0].heredocs.isEmpty)
    }

    /// COPY and ADD split on blanks only (quotes are for the words later), JSON keeps them.
    @Test func copyArgumentsAndJSONForms() throws {
        #expect(try expressions("COPY a  b\t/c/\nCOPY [\"x y\", \"/z\"]\nVOLUME /a /b\nSHELL [\"/bin/bash\", \"-c\"]\n") == [
            #"(copy "a" "b" "/c/")"#, #"(copy "x y" "/z")"#, #"(volume "/a" "/b")"#, #"(shell "/bin/bash" "-c")"#,
        ])
        let file = try Dockerfile.parse("FROM scratch\nCOPY \"a b\" /c\n")
        #expect(throws: DockerfileError.self) { try file.stages[0].instructions[0].sourcesAndDestination(ShellWords(environment: [:])) }
    }

    @Test func healthcheckAndOnbuildNest() throws {
        #expect(try expressions("HEALTHCHECK --retries=2 CMD curl -f http://x/\nHEALTHCHECK NONE\nONBUILD\tRUN make\n") == [
            #"(healthcheck ["--retries=2"] "CMD" "curl -f http://x/")"#, #"(healthcheck "NONE")"#, #"(onbuild (run "make"))"#,
        ])
    }

    @Test func expandedPortsSplitAndValuesDoNot() throws {
        let file = try Dockerfile.parse("FROM scratch\nEXPOSE $PORTS 9000\nENV LIST=$PORTS\n")
        let words = ShellWords(environment: ["PORTS": "80 443/udp"])
        #expect(try file.stages[0].instructions[0].ports(words) == ["80/tcp", "443/udp", "9000/tcp"])
        #expect(try file.stages[0].instructions[1].keyValues(words).map(\.value) == ["80 443/udp"])
    }

    @Test func directivesOnlyAtTheTop() throws {
        let tree = try SyntaxTree.parse("# Escape = `\n# check=skip=all\nFROM x\nRUN a `\n  b\n")
        #expect(tree.directives == ["escape": "`", "check": "skip=all"])
        #expect(tree.sExpressions == "(from \"x\")\n(run \"a   b\")")
        let late = try SyntaxTree.parse("# a comment\n# escape=`\nRUN a \\\n b\n")
        #expect(late.directives.isEmpty)
        #expect(throws: DockerfileError.self) { try SyntaxTree.parse("# escape=\\\n# escape=`\nFROM x\n") }
        #expect(throws: DockerfileError.self) { try SyntaxTree.parse("# only a comment\n\n") }
    }
}
