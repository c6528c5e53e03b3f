import Foundation
@testable import SlipwayServer
import Testing

/// Registry notifications of each shape Slipway reads become the references they name; blob
/// events, pulls and pushes by digest name nothing.
struct RegistryNotificationTests {
    @Test func distributionEnvelopesNameTaggedManifestPushesOnly() throws {
        let body = Data(#"""
            {"events":[
              {"id":"1","action":"push","target":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:aa","repository":"base/debian","tag":"bookworm"},"request":{"host":"registry.local:5000"}},
              {"id":"2","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:bb","repository":"base/debian"},"request":{"host":"registry.local:5000"}},
              {"id":"3","action":"push","target":{"mediaType":"application/octet-stream","digest":"sha256:cc","repository":"base/debian","tag":"x"},"request":{"host":"registry.local:5000"}},
              {"id":"4","action":"pull","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","repository":"app","tag":"1"},"request":{"host":"registry.local:5000"}},
              {"id":"5","action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","repository":"app","tag":"1"},"request":{"host":"registry.local:5000"}}
            ]}
            """#.utf8)
        #expect(try RegistryNotification.references(in: body) == ["registry.local:5000/app:1", "registry.local:5000/base/debian:bookworm"])
    }

    @Test func acrHarborAndDockerHubPayloads() throws {
        let acr = Data(#"{"id":"e","action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","repository":"hello-world","tag":"v1"},"request":{"host":"myregistry.azurecr.io"}}"#.utf8)
        #expect(try RegistryNotification.references(in: acr) == ["myregistry.azurecr.io/hello-world:v1"])
        let harbor = Data(#"{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"sha256:8a","tag":"latest","resource_url":"hub.harbor.com/test-webhook/debian:latest"},{"tag":"sha256:9b","resource_url":"hub.harbor.com/test-webhook/debian@sha256:9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b"}]}}"#.utf8)
        #expect(try RegistryNotification.references(in: harbor) == ["hub.harbor.com/test-webhook/debian:latest"])
        let cloudEvent = Data(#"{"type":"harbor.artifact.pushed","data":{"resources":[{"resource_url":"hub.harbor.com/p/app:2"}]}}"#.utf8)
        #expect(try RegistryNotification.references(in: cloudEvent) == ["hub.harbor.com/p/app:2"])
        let hub = Data(#"{"push_data":{"pushed_at":1417566161,"tag":"latest"},"repository":{"repo_name":"svendowideit/testhook"}}"#.utf8)
        #expect(try RegistryNotification.references(in: hub) == ["docker.io/svendowideit/testhook:latest"])
    }

    @Test func anythingElseIsRefused() {
        #expect(throws: RegistryNotification.Invalid.self) { try RegistryNotification.references(in: Data("{oops".utf8)) }
        #expect(throws: RegistryNotification.Invalid.self) { try RegistryNotification.references(in: Data(#"{"hello":"world"}"#.utf8)) }
    }
}
