import Testing
import SignerAPI

@Suite("Platform rules in the catalog")
struct PlatformRulesTests {
    @Test("every catalog platform has rules, and only Notation allows SignPayload")
    func platformRules() throws {
        for id in PlatformCatalog.ids {
            let rules = try #require(PlatformCatalog.rules(platformId: id))
            #expect(rules.allowsSignPayload == (id == "Notation-OCI-SHA384-ECDSA"))
            #expect(rules.allowsStartSigningJob != rules.allowsSignPayload)
            #expect(rules.requiresSigningMaterial == !["AWSLambda-SHA384-ECDSA", "Notation-OCI-SHA384-ECDSA"].contains(id))
        }
        #expect(PlatformCatalog.rules(platformId: "AWSLambda-SHA384-ECDSA")?.excludedPermissionActions == [.signPayload])
        #expect(PlatformCatalog.rules(platformId: "Nope") == nil)
    }
}
