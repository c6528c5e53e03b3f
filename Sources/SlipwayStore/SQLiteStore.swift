public import Foundation
import GRDB
public import SlipwayKernel

/// The default ``SlipwayStore``: one SQLite file under the state directory
/// (`<state>/slipway.sqlite`), in WAL mode so readers never wait for the writer, with versioned
/// migrations. GRDB runs every statement on its own queues, never on the cooperative pool.
public final class SQLiteStore: SlipwayStore {
    private let database: DatabasePool
    public let path: String

    /// Opens (creating and migrating) the store at `path`.
    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        database = try DatabasePool(path: path, configuration: configuration)
        // Several slipway processes may open a new store at once: each migration is one
        // transaction, and the loser of a race finds the migrations applied when it looks again.
        for attempt in 1...5 {
            do {
                try Self.migrator.migrate(database)
                break
            } catch {
                if try database.read({ try Self.migrator.hasCompletedMigrations($0) }) { break }
                if attempt == 5 { throw error }
                usleep(20_000 * UInt32(attempt))
            }
        }
    }

    /// The store of a state directory.
    public static func inStateDirectory(_ state: URL) throws -> SQLiteStore {
        try SQLiteStore(path: state.appendingPathComponent("slipway.sqlite").path)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, steps, events, tasks, triggers, images") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                  id TEXT PRIMARY KEY, pipeline TEXT, task TEXT, status TEXT NOT NULL,
                  queued REAL NOT NULL, started REAL, finished REAL, error TEXT);
                CREATE INDEX run_task ON run(task, queued);
                CREATE TABLE step (
                  run TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE, step TEXT NOT NULL, position INTEGER NOT NULL,
                  kind TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, exit_code INTEGER, error TEXT,
                  outputs TEXT, started REAL, finished REAL, PRIMARY KEY (run, step));
                CREATE TABLE event (
                  run TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE, sequence INTEGER NOT NULL, kind TEXT NOT NULL,
                  body TEXT NOT NULL, PRIMARY KEY (run, sequence));
                CREATE TABLE task (
                  name TEXT PRIMARY KEY, format TEXT NOT NULL, text TEXT NOT NULL, "values" TEXT NOT NULL,
                  enabled INTEGER NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
                CREATE TABLE trigger_cursor (trigger TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (trigger, key));
                CREATE TABLE trigger_delivery (
                  trigger TEXT NOT NULL, id TEXT NOT NULL, task TEXT, received REAL NOT NULL, summary TEXT NOT NULL,
                  PRIMARY KEY (trigger, id));
                CREATE TABLE image (
                  task TEXT NOT NULL, run TEXT NOT NULL, reference TEXT, digest TEXT NOT NULL, platform TEXT NOT NULL,
                  recorded REAL NOT NULL, PRIMARY KEY (task, run, digest));
                CREATE TABLE image_base (
                  task TEXT NOT NULL, run TEXT NOT NULL, digest TEXT NOT NULL, scope TEXT NOT NULL,
                  reference TEXT NOT NULL, base_digest TEXT NOT NULL);
                CREATE INDEX image_base_reference ON image_base(reference);
                """)
        }
        migrator.registerMigration("v2: run requests") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN trigger TEXT;
                ALTER TABLE run ADD COLUMN request TEXT;
                ALTER TABLE run ADD COLUMN dedupe_key TEXT;
                CREATE INDEX run_dedupe ON run(task, dedupe_key);
                CREATE INDEX trigger_delivery_task ON trigger_delivery(task, received);
                """)
        }
        migrator.registerMigration("v3: task settings") { db in
            try db.execute(sql: "ALTER TABLE task ADD COLUMN settings TEXT")
        }
        migrator.registerMigration("v4: layer origins of images") { db in
            try db.execute(sql: """
                ALTER TABLE image ADD COLUMN layers TEXT;
                ALTER TABLE image ADD COLUMN tags TEXT;
                CREATE INDEX image_digest ON image(digest, recorded);
                """)
        }
        return migrator
    }

    // MARK: Runs

    public func append(_ events: [RunEvent]) async throws {
        let stored = try events.filter { $0.kind != .progress }.map { ($0, String(decoding: try Self.encoder.encode($0), as: UTF8.self)) }
        guard !stored.isEmpty else { return }
        try await database.write { db in
            // Each run's row once per batch (its first event in it makes it, if needed), not
            // once per log line.
            var runs = Set<String>()
            for (event, _) in stored where runs.insert(event.run).inserted {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO run (id, pipeline, status, queued) VALUES (?, ?, ?, ?)",
                    arguments: [event.run, event.pipeline, RunStatus.queued.rawValue, event.time.timeIntervalSince1970])
            }
            for (event, body) in stored {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO event (run, sequence, kind, body) VALUES (?, ?, ?, ?)",
                    arguments: [event.run, event.sequence, event.kind.rawValue, body])
                guard db.changesCount > 0 else { continue }  // seen before
                try Self.apply(event, in: db)
            }
        }
    }

    private static func apply(_ event: RunEvent, in db: Database) throws {
        let time = event.time.timeIntervalSince1970
        switch event.kind {
        case .runStarted:
            try db.execute(sql: "UPDATE run SET status = ?, started = ?, pipeline = COALESCE(pipeline, ?) WHERE id = ?",
                           arguments: [RunStatus.running.rawValue, time, event.pipeline, event.run])
        case .runFinished:
            try db.execute(sql: "UPDATE run SET status = ?, finished = ?, error = ? WHERE id = ?",
                           arguments: [event.status?.rawValue ?? RunStatus.failed.rawValue, time, event.error, event.run])
        case .stepQueued:
            guard let step = event.step else { return }
            let position = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM step WHERE run = ?", arguments: [event.run]) ?? 0
            try db.execute(
                sql: "INSERT OR IGNORE INTO step (run, step, position, kind, status) VALUES (?, ?, ?, ?, ?)",
                arguments: [event.run, step.rawValue, position, event.stepKind, RunStatus.queued.rawValue])
        case .stepStarted:
            guard let step = event.step else { return }
            try db.execute(sql: "UPDATE step SET status = ?, started = ? WHERE run = ? AND step = ?",
                           arguments: [RunStatus.running.rawValue, time, event.run, step.rawValue])
        case .stepAttempt:
            guard let step = event.step else { return }
            try db.execute(sql: "UPDATE step SET attempts = ? WHERE run = ? AND step = ?", arguments: [event.attempt ?? 1, event.run, step.rawValue])
        case .stepFinished:
            guard let step = event.step else { return }
            let outputs = try event.outputs.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            // A step that never started (skipped) has no queued row yet in some orders: make it.
            let position = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM step WHERE run = ?", arguments: [event.run]) ?? 0
            try db.execute(
                sql: "INSERT OR IGNORE INTO step (run, step, position, status) VALUES (?, ?, ?, ?)",
                arguments: [event.run, step.rawValue, position, RunStatus.queued.rawValue])
            try db.execute(
                sql: "UPDATE step SET status = ?, exit_code = ?, error = ?, outputs = ?, finished = ? WHERE run = ? AND step = ?",
                arguments: [event.status?.rawValue, event.exitCode, event.error, outputs, time, event.run, step.rawValue])
        case .runQueued, .stepRetrying, .log, .progress:
            break
        }
    }

    public func run(_ id: String) async throws -> RunRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]).map(Self.runRecord)
        }
    }

    public func runs(_ query: RunQuery) async throws -> [RunRecord] {
        try await database.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let task = query.task {
                conditions.append("task = ?")
                _ = arguments.append(contentsOf: [task])
            }
            if let status = query.status {
                conditions.append("status = ?")
                _ = arguments.append(contentsOf: [status.rawValue])
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            _ = arguments.append(contentsOf: [query.limit])
            return try Row.fetchAll(db, sql: "SELECT * FROM run \(filter) ORDER BY queued DESC, id DESC LIMIT ?", arguments: arguments)
                .map(Self.runRecord)
        }
    }

    public func steps(ofRun id: String) async throws -> [StepRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM step WHERE run = ? ORDER BY position", arguments: [id]).map { row in
                let outputs: String? = row["outputs"]
                return StepRecord(
                    run: row["run"], step: StepID(row["step"] as String), kind: row["kind"],
                    status: RunStatus(rawValue: row["status"] as String) ?? .failed, attempts: row["attempts"],
                    exitCode: (row["exit_code"] as Int64?).map { Int32(truncatingIfNeeded: $0) }, error: row["error"],
                    outputs: try outputs.map { try Self.decoder.decode([String: ConfigValue].self, from: Data($0.utf8)) },
                    started: (row["started"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    finished: (row["finished"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    public func events(ofRun id: String, after sequence: Int) async throws -> [RunEvent] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM event WHERE run = ? AND sequence > ? ORDER BY sequence", arguments: [id, sequence])
                .map { try Self.decoder.decode(RunEvent.self, from: Data($0.utf8)) }
        }
    }

    private static func runRecord(_ row: Row) -> RunRecord {
        RunRecord(
            id: row["id"], pipeline: row["pipeline"], task: row["task"], trigger: row["trigger"], status: RunStatus(rawValue: row["status"] as String) ?? .failed,
            queued: Date(timeIntervalSince1970: row["queued"]), started: (row["started"] as Double?).map(Date.init(timeIntervalSince1970:)),
            finished: (row["finished"] as Double?).map(Date.init(timeIntervalSince1970:)), error: row["error"])
    }

    // MARK: The run queue

    public func queue(_ requests: [RunRequest]) async throws -> [QueueOutcome] {
        let bodies = try requests.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }
        return try await database.write { db in
            try zip(requests, bodies).map { request, body in
                if let key = request.dedupeKey,
                    let existing = try String.fetchOne(
                        db, sql: "SELECT id FROM run WHERE task = ? AND dedupe_key = ? AND status IN ('queued', 'running', 'succeeded') LIMIT 1",
                        arguments: [request.task, key])
                {
                    return .duplicate(of: existing)
                }
                try db.execute(
                    sql: "INSERT INTO run (id, pipeline, task, trigger, status, queued, request, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        request.id, request.task, request.task, request.trigger, RunStatus.queued.rawValue, request.queued.timeIntervalSince1970,
                        body, request.dedupeKey,
                    ])
                return .queued(request.id)
            }
        }
    }

    public func request(ofRun id: String) async throws -> RunRequest? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT request FROM run WHERE id = ?", arguments: [id]).map(Self.decodeRequest)
        }
    }

    public func pendingRequests() async throws -> [RunRequest] {
        try await requests(status: .queued)
    }

    public func unfinishedRequests() async throws -> [RunRequest] {
        try await requests(status: .running)
    }

    private func requests(status: RunStatus) async throws -> [RunRequest] {
        try await database.read { db in
            try String.fetchAll(
                db, sql: "SELECT request FROM run WHERE status = ? AND request IS NOT NULL ORDER BY queued, id", arguments: [status.rawValue]
            ).map(Self.decodeRequest)
        }
    }

    public func close(run id: String, status: RunStatus, message: String, at time: Date) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE run SET status = ?, error = ?, finished = ? WHERE id = ? AND status IN ('queued', 'running')",
                arguments: [status.rawValue, message, time.timeIntervalSince1970, id])
            try db.execute(
                sql: "UPDATE step SET status = ?, finished = ? WHERE run = ? AND status IN ('queued', 'running')",
                arguments: [status.rawValue, time.timeIntervalSince1970, id])
        }
    }

    private static func decodeRequest(_ body: String) throws -> RunRequest {
        try decoder.decode(RunRequest.self, from: Data(body.utf8))
    }

    // MARK: Tasks

    public func save(_ task: TaskRecord) async throws {
        let values = String(decoding: try Self.encoder.encode(task.values), as: UTF8.self)
        let settings = try task.settings.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO task (name, format, text, "values", settings, enabled, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET format = excluded.format, text = excluded.text, "values" = excluded."values",
                      settings = excluded.settings, enabled = excluded.enabled, updated = excluded.updated
                    """,
                arguments: [
                    task.name, task.format, task.text, values, settings, task.enabled, task.created.timeIntervalSince1970,
                    task.updated.timeIntervalSince1970,
                ])
        }
    }

    public func task(named name: String) async throws -> TaskRecord? {
        try await database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM task WHERE name = ?", arguments: [name]).map(Self.taskRecord) }
    }

    public func tasks() async throws -> [TaskRecord] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM task ORDER BY name").map(Self.taskRecord) }
    }

    public func deleteTask(named name: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM task WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    private static func taskRecord(_ row: Row) throws -> TaskRecord {
        TaskRecord(
            name: row["name"], format: row["format"], text: row["text"],
            values: try decoder.decode(ConfigValue.self, from: Data((row["values"] as String).utf8)),
            settings: try (row["settings"] as String?).map { try decoder.decode(ConfigValue.self, from: Data($0.utf8)) }, enabled: row["enabled"],
            created: Date(timeIntervalSince1970: row["created"]), updated: Date(timeIntervalSince1970: row["updated"]))
    }

    // MARK: Triggers

    public func cursor(trigger: String, key: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM trigger_cursor WHERE trigger = ? AND key = ?", arguments: [trigger, key])
        }
    }

    public func cursors(trigger: String) async throws -> [String: String] {
        try await database.read { db in
            var values: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM trigger_cursor WHERE trigger = ?", arguments: [trigger]) {
                values[row["key"]] = row["value"]
            }
            return values
        }
    }

    public func setCursors(_ values: [String: String], trigger: String) async throws {
        guard !values.isEmpty else { return }
        try await database.write { db in
            for (key, value) in values {
                try db.execute(
                    sql: "INSERT INTO trigger_cursor (trigger, key, value) VALUES (?, ?, ?) ON CONFLICT(trigger, key) DO UPDATE SET value = excluded.value",
                    arguments: [trigger, key, value])
            }
        }
    }

    public func recordDelivery(_ delivery: TriggerDelivery) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO trigger_delivery (trigger, id, task, received, summary) VALUES (?, ?, ?, ?, ?)",
                arguments: [delivery.trigger, delivery.id, delivery.task, delivery.received.timeIntervalSince1970, delivery.summary])
            return db.changesCount > 0
        }
    }

    public func recordDeliveries(_ deliveries: [TriggerDelivery]) async throws {
        guard !deliveries.isEmpty else { return }
        try await database.write { db in
            for delivery in deliveries {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO trigger_delivery (trigger, id, task, received, summary) VALUES (?, ?, ?, ?, ?)",
                    arguments: [delivery.trigger, delivery.id, delivery.task, delivery.received.timeIntervalSince1970, delivery.summary])
            }
        }
    }

    public func deliveries(task: String?, limit: Int) async throws -> [TriggerDelivery] {
        try await database.read { db in
            let filter = task == nil ? "" : "WHERE task = ?"
            var arguments: StatementArguments = []
            if let task { _ = arguments.append(contentsOf: [task]) }
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: "SELECT * FROM trigger_delivery \(filter) ORDER BY received DESC, rowid DESC LIMIT ?", arguments: arguments)
                .map { row in
                    TriggerDelivery(
                        trigger: row["trigger"], id: row["id"], task: row["task"], received: Date(timeIntervalSince1970: row["received"]),
                        summary: row["summary"])
                }
        }
    }

    // MARK: Images

    public func recordImage(_ image: ImageRecord) async throws {
        let layers = try image.layers.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }
        let tags = String(decoding: try Self.encoder.encode(image.tags), as: UTF8.self)
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO image (task, run, reference, digest, platform, layers, tags, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [image.task, image.run, image.reference, image.digest, image.platform, layers, tags, image.recorded.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM image_base WHERE task = ? AND run = ? AND digest = ?", arguments: [image.task, image.run, image.digest])
            var bases = image.buildTimeBases.map { (BaseScope.all, $0) }
            if let runtime = image.runtimeBase { bases.insert((.runtime, runtime), at: 0) }
            for (scope, base) in bases {
                try db.execute(
                    sql: "INSERT INTO image_base (task, run, digest, scope, reference, base_digest) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [image.task, image.run, image.digest, scope.rawValue, base.reference, base.digest])
            }
        }
    }

    public func latestImage(ofTask task: String) async throws -> ImageRecord? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM image WHERE task = ? ORDER BY recorded DESC, run DESC LIMIT 1", arguments: [task])
            else { return nil }
            return try Self.imageRecord(row, in: db)
        }
    }

    public func image(digest: String) async throws -> ImageRecord? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM image WHERE digest = ? ORDER BY recorded DESC LIMIT 1", arguments: [digest])
            else { return nil }
            return try Self.imageRecord(row, in: db)
        }
    }

    public func latestImages() async throws -> [String: ImageRecord] {
        try await database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.* FROM image i
                    WHERE i.recorded = (SELECT MAX(recorded) FROM image WHERE task = i.task)
                    ORDER BY i.task, i.run DESC
                    """)
            var images: [String: ImageRecord] = [:]
            for row in rows where images[row["task"] as String] == nil {
                images[row["task"]] = try Self.imageRecord(row, in: db)
            }
            return images
        }
    }

    public func dependents(ofBase reference: String, scope: BaseScope) async throws -> [ImageRecord] {
        try await database.read { db in
            // Each task's latest image, when one of its bases (of the scope) is `reference`.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.* FROM image i
                    WHERE i.recorded = (SELECT MAX(recorded) FROM image WHERE task = i.task)
                      AND EXISTS (SELECT 1 FROM image_base b WHERE b.task = i.task AND b.run = i.run AND b.digest = i.digest
                                  AND b.reference = ? AND (? = 'all' OR b.scope = 'runtime'))
                    ORDER BY i.task
                    """,
                arguments: [reference, scope.rawValue])
            return try rows.map { try Self.imageRecord($0, in: db) }
        }
    }

    private static func imageRecord(_ row: Row, in db: Database) throws -> ImageRecord {
        let (task, run, digest): (String, String, String) = (row["task"], row["run"], row["digest"])
        let bases = try Row.fetchAll(
            db, sql: "SELECT scope, reference, base_digest FROM image_base WHERE task = ? AND run = ? AND digest = ? ORDER BY rowid",
            arguments: [task, run, digest])
        let runtime = bases.first { ($0["scope"] as String) == BaseScope.runtime.rawValue }
            .map { BaseImage(reference: $0["reference"], digest: $0["base_digest"]) }
        let buildTime = bases.filter { ($0["scope"] as String) == BaseScope.all.rawValue }
            .map { BaseImage(reference: $0["reference"], digest: $0["base_digest"]) }
        return ImageRecord(
            task: task, run: run, reference: row["reference"], digest: digest, platform: row["platform"], runtimeBase: runtime,
            buildTimeBases: buildTime, layers: try (row["layers"] as String?).map { try decoder.decode([LayerOrigin].self, from: Data($0.utf8)) },
            tags: try (row["tags"] as String?).map { try decoder.decode([String].self, from: Data($0.utf8)) } ?? [],
            recorded: Date(timeIntervalSince1970: row["recorded"]))
    }

    /// Dates as Foundation's own numbers, so an event reads back exactly as it was emitted.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private static let decoder = JSONDecoder()
}
