import SlipwayDockerfile
import SlipwayKernel
import Testing

struct DockerfileParserTests {
    static let full = #"""
        # syntax=docker/dockerfile:1
        # escape=\
        ARG BASE=alpine:3.20
        ARG TAG

        # a comment
        FROM --platform=linux/amd64 ${BASE} AS build
        ENV GREETING="hello world" \
            # comments inside continuations are dropped
            TARGET=/out
        RUN apk add --no-cache \
              gcc \
              make
        COPY --from=deps --chown=1000:1000 --chmod=0755 src/ /src/
        RUN <<EOF
        echo one
        echo "${GREETING}"
        EOF
        COPY <<-"CONF" /etc/app.conf
        	key=value
        	CONF
        LABEL org.example.name="app" version=1
        EXPOSE 80 443/tcp 53/udp
        HEALTHCHECK --interval=30s --retries=3 CMD ["curl", "-f", "http://localhost/"]
        ONBUILD RUN echo later

        FROM scratch
        COPY --from=build /out /app
        USER 1000:1000
        WORKDIR /app
        VOLUME ["/data"]
        STOPSIGNAL SIGTERM
        SHELL ["/bin/sh", "-eu", "-c"]
        ENTRYPOINT ["/app/run"]
        CMD ["--help"]
        """#

    @Test func parsesEverySyntaxFeature() throws {
        let dockerfile = try Dockerfile.parse(Self.full)
        #expect(dockerfile.directives == ["syntax": "docker/dockerfile:1", "escape": "\\"])
        #expect(dockerfile.globalArgs.count == 2)
        #expect(dockerfile.stages.count == 2)
        let build = dockerfile.stages[0]
        #expect(build.name == "build")
        #expect(build.base == "${BASE}")
        #expect(build.platform == "linux/amd64")
        #expect(build.from.location.line == 7)
        #expect(build.instructions.map(\.keyword) == [.env, .run, .copy, .run, .copy, .label, .expose, .healthcheck, .onbuild])

        let env = try build.instructions[0].keyValues(ShellWords(environment: [:]))
        #expect(env.map(\.key) == ["GREETING", "TARGET"])
        #expect(env.map(\.value) == ["hello world", "/out"])

        // Continuations keep the text before the escape character, and each line's indentation.
        #expect(build.instructions[1].arguments == .shell("apk add --no-cache       gcc       make"))
        #expect(build.instructions[1].location.line == 11)

        let copy = build.instructions[2]
        #expect(copy.flag("from") == "deps")
        #expect(copy.flag("chown") == "1000:1000")
        #expect(copy.flag("chmod") == "0755")

        let heredoc = build.instructions[3].heredocs
        #expect(heredoc.map(\.name) == ["EOF"])
        #expect(heredoc.first?.content == "echo one\necho \"${GREETING}\"\n")
        #expect(heredoc.first?.expands == true)
        let conf = build.instructions[4]
        #expect(conf.heredocs.first?.content == "key=value\n")
        #expect(conf.heredocs.first?.expands == false)
        #expect(try conf.sourcesAndDestination(ShellWords(environment: [:])).destination == "/etc/app.conf")

        #expect(try build.instructions[6].ports(ShellWords(environment: [:])) == ["80/tcp", "443/tcp", "53/udp"])
        #expect(build.instructions[7].flag("interval") == "30s")
        if case .instruction(let nested) = build.instructions[8].nested { #expect(nested.keyword == .run) } else { Issue.record("ONBUILD") }

        let final = dockerfile.stages[1]
        #expect(final.base == "scratch")
        #expect(final.instructions.first { $0.keyword == .volume }?.arguments == .json(["/data"]))
        #expect(final.instructions.first { $0.keyword == .entrypoint }?.command(shell: ["/bin/sh", "-c"]) == ["/app/run"])
        #expect(final.instructions.last?.command(shell: ["/bin/sh", "-c"]) == ["--help"])
        #expect(try dockerfile.stage(named: "BUILD").index == 0)
        #expect(try dockerfile.stage(named: nil).index == 1)
    }

    @Test func backtickEscapeDirective() throws {
        let dockerfile = try Dockerfile.parse("# escape=`\nFROM scratch\nCOPY a `\n  b /dst\n")
        #expect(dockerfile.escape == "`")
        #expect(try dockerfile.stages[0].instructions[0].sourcesAndDestination(ShellWords(escape: "`", environment: [:])).sources == ["a", "b"])
    }

    @Test func legacyEnvFormAndArgDefaults() throws {
        let dockerfile = try Dockerfile.parse("FROM scratch\nENV PATH /usr/local/bin:/usr/bin\nARG A=1 B\n")
        let words = ShellWords(environment: [:])
        #expect(try dockerfile.stages[0].instructions[0].keyValues(words).map(\.value) == ["/usr/local/bin:/usr/bin"])
        let args = try dockerfile.stages[0].instructions[1].keyValues(words)
        #expect(args.map(\.key) == ["A", "B"])
        #expect(args.map(\.value) == ["1", nil])
    }

    @Test(arguments: [
        ("FROM scratch\nFOO bar\n", 2, "unknown instruction 'FOO'"),
        ("RUN echo hi\nFROM scratch\n", 1, "RUN: only ARG may come before the first FROM"),
        ("", 1, "no FROM instruction"),
        ("# comment only\n", 1, "no FROM instruction"),
        ("FROM a AS x\nFROM b AS X\n", 2, "FROM: duplicate stage name 'x'"),
        ("FROM a AS 1bad\n", 1, "FROM: invalid stage name '1bad'"),
        ("FROM a b c d\n", 1, "FROM: expected FROM [--platform=<platform>] <image> [AS <name>]"),
        ("FROM scratch\nCOPY --form=x a b\n", 2, "COPY: unknown flag --form"),
        ("FROM scratch\nCOPY onlyone\n", 0, ""),
        ("FROM scratch\nSHELL /bin/bash -c\n", 2, "SHELL: SHELL requires the JSON form"),
        ("FROM scratch\nRUN <<EOF\necho never closed\n", 2, "unterminated heredoc <<EOF"),
        ("FROM scratch\nONBUILD FROM x\n", 2, "ONBUILD: FROM is not allowed in ONBUILD"),
        ("FROM scratch\nWORKDIR\n", 2, "WORKDIR: requires arguments"),
        ("# escape=x\nFROM scratch\n", 1, "invalid escape token 'x'"),
    ])
    func malformedDockerfilesNameFileAndLine(text: String, line: Int, message: String) {
        do {
            let dockerfile = try Dockerfile.parse(text, file: "app/Dockerfile")
            // Some problems surface only when an instruction's arguments are read.
            for instruction in dockerfile.stages.flatMap(\.instructions) where instruction.keyword == .copy {
                _ = try instruction.sourcesAndDestination(ShellWords(environment: [:]))
            }
            Issue.record("accepted: \(text)")
        } catch let error as DockerfileError {
            if line > 0 {
                #expect(error.location == SourceLocation(file: "app/Dockerfile", line: line))
                #expect(error.description.contains(message), "\(error)")
            } else {
                #expect(error.description.hasPrefix("app/Dockerfile:2: COPY: requires at least one source and a destination"))
            }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

struct ShellWordsTests {
    let words = ShellWords(environment: ["NAME": "app", "EMPTY": "", "DIR": "/srv"])

    @Test(arguments: [
        ("$NAME", "app"), ("${NAME}", "app"), ("${MISSING:-fallback}", "fallback"), ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""), ("${NAME:+set}", "set"), ("${MISSING:+set}", ""), ("${MISSING:-$DIR/x}", "/srv/x"),
        ("'$NAME'", "$NAME"), ("\"$NAME\"", "app"), ("\\$NAME", "$NAME"), ("a\\ b", "a b"), ("cost$", "cost$"),
        ("${DIR}/${NAME}.conf", "/srv/app.conf"),
    ])
    func expands(text: String, expected: String) throws {
        #expect(try words.word(text) == expected)
    }

    @Test func splitsOnUnquotedWhitespace() throws {
        #expect(try words.words(#"a "b c" 'd e' f\ g $NAME"#) == ["a", "b c", "d e", "f g", "app"])
    }

    @Test func reportsBadSubstitutions() {
        #expect(throws: ShellWords.Failure.self) { try words.word("${NAME") }
        #expect(throws: ShellWords.Failure.self) { try words.word("${NAME/x}") }
        #expect(throws: ShellWords.Failure(description: "MISSING: must be set")) { try words.word("${MISSING:?must be set}") }
    }

    /// Inside single quotes nothing escapes, so `ENV name='a\'b'` leaves a quote open: an error,
    /// as in BuildKit, not a silently different value. Unterminated quotes are errors too.
    @Test func unterminatedQuotesAreErrors() throws {
        let words = ShellWords(environment: [:])
        for text in ["name='a\\'b'", "'open", "\"open", "a \"b\\\" c"] {
            #expect(throws: ShellWords.Failure.self, "\(text)") { try words.word(text) }
        }
        #expect(try words.word("'a\\'b") == "a\\b")
        #expect(try words.word("\"a \\\" b\"") == "a \" b")
    }

    /// Valid JSON with a non-string is an error; text that is not JSON at all stays shell form.
    @Test func jsonArraysMustHoldStrings() throws {
        #expect(throws: DockerfileError.self) { try Dockerfile.parse("FROM scratch\nCMD [\"sleep\", 5]\n", file: "Dockerfile") }
        let shell = try Dockerfile.parse("FROM scratch\nCMD [not json\n", file: "Dockerfile")
        #expect(shell.stages[0].instructions[0].arguments == .shell("[not json"))
    }

    /// Windows line endings parse like Unix ones, continuations included.
    @Test func crlfDockerfilesParse() throws {
        let dockerfile = try Dockerfile.parse("FROM scratch\r\nENV A=1 \\\r\n    B=2\r\nCOPY a /a\r\n", file: "Dockerfile")
        let instructions = dockerfile.stages[0].instructions
        #expect(instructions.map(\.keyword) == [.env, .copy])
        #expect(try instructions[0].keyValues(ShellWords(environment: [:])).map(\.0) == ["A", "B"])
        #expect(instructions[1].location.line == 4)
    }
}
