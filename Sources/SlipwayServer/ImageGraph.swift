import SlipwayKernel
import SlipwayOCI
import SlipwayStore

/// The image dependency graph in memory, read once per check: which tasks are built on each
/// reference, and which reference each task produces. References are compared as Slipway
/// spells them (`ImageReference.description`), so `alpine` and `docker.io/library/alpine:latest`
/// are one node.
struct ImageGraph {
    /// Normalized base reference → the tasks whose latest image was built on it.
    private var dependents: [String: [String]] = [:]
    /// Task → the normalized reference its latest image was tagged with.
    private var produces: [String: String] = [:]

    init(_ images: [String: ImageRecord]) {
        for image in images.values {
            if let reference = image.reference { produces[image.task] = Self.normalized(reference) }
            for base in (image.runtimeBase.map { [$0] } ?? []) + image.buildTimeBases {
                dependents[Self.normalized(base.reference), default: []].append(image.task)
            }
        }
        for key in dependents.keys { dependents[key]!.sort() }
    }

    static func normalized(_ text: String) -> String { (try? ImageReference(parsing: text).description) ?? text }

    /// A path of tasks from `start` back to itself through the images they build on, if any:
    /// rebuilding such a task would push a base of its own and loop.
    func cycle(through start: String) -> [String]? {
        var queue: [[String]] = [[start]]
        var seen: Set<String> = [start]
        while !queue.isEmpty {
            let path = queue.removeFirst()
            guard let produced = produces[path.last!] else { continue }
            for task in dependents[produced] ?? [] {
                if task == start { return path + [start] }
                if seen.insert(task).inserted { queue.append(path + [task]) }
            }
        }
        return nil
    }
}
