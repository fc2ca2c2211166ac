import Testing
import TFTCore

struct ServerProfileTests {
    @Test(arguments: [
        ("ppml0001", ServerProfile.mlCompute), ("PPML0042", .mlCompute), ("ppdb001", .database),
        ("ppweb003", .webAPI), ("ppapi12", .webAPI), ("ppcon01", .conductor), ("ppcond7", .conductor),
        ("ppetl001", .etlIngest), ("pprisk001", .riskAnalytics), ("ppgen001", .generic),
        ("postgres-primary-02", .database), ("mysql3", .database), ("MongoDB-1", .database),
        ("redis-cache", .database), ("oracle01", .database), ("maindb-01", .database), ("pg-7", .database),
        ("nginx-edge-1", .webAPI), ("apache02", .webAPI), ("web-07", .webAPI), ("api-server-3", .webAPI),
        ("frontend-blue", .webAPI), ("kafka-broker-2", .etlIngest), ("spark-worker-9", .etlIngest),
        ("airflow", .etlIngest), ("etl-nightly", .etlIngest), ("gpu-node-7", .mlCompute), ("ml-node-01", .mlCompute),
        ("trainer-a100", .mlCompute), ("conductor-2", .conductor), ("varrisk01", .riskAnalytics),
        ("html-renderer", .generic), ("mailhost", .generic), ("build-agent-3", .generic), ("", .generic),
        ("xyz123", .generic),
    ])
    func infersProfileFromName(name: String, expected: ServerProfile) {
        #expect(ServerProfile.infer(serverName: name) == expected, "\(name)")
    }

    @Test func firstMatchingTokenWins() {
        // "kafka" comes before "db" in the name, so the name reads as ETL.
        #expect(ServerProfile.infer(serverName: "kafka-db-bridge") == .etlIngest)
        #expect(ServerProfile.infer(serverName: "db-kafka-bridge") == .database)
    }

    @Test func parsesRawValuesDisplayNamesAndAliases() {
        for p in ServerProfile.allCases {
            #expect(ServerProfile.parse(p.rawValue) == p)
            #expect(ServerProfile.parse(p.displayName) == p)
            #expect(ServerProfile.parse(p.displayName.uppercased()) == p)
        }
        #expect(ServerProfile.parse("Database") == .database)
        #expect(ServerProfile.parse("ETL/Ingest") == .etlIngest)
        #expect(ServerProfile.parse("web") == .webAPI)
        #expect(ServerProfile.parse("db") == .database)
        #expect(ServerProfile.parse("toaster") == nil)
        #expect(ServerProfile.parse("") == nil)
    }

    @Test func overrideWinsOnlyWhenParseable() {
        #expect(ServerProfile.resolve(serverName: "ppdb001", override: "Web API") == .webAPI)
        #expect(ServerProfile.resolve(serverName: "ppdb001", override: "nonsense") == .database)
        #expect(ServerProfile.resolve(serverName: "ppdb001", override: nil) == .database)
    }

    @Test func indicesAreStableAndContiguous() {
        #expect(ServerProfile.allCases.map(\.index) == Array(0..<ServerProfile.count))
        #expect(ServerProfile.mlCompute.index == 0 && ServerProfile.generic.index == 6)
        for p in ServerProfile.allCases { #expect(ServerProfile(index: p.index) == p) }
        #expect(ServerProfile(index: 7) == nil)
        #expect(ServerProfile.database.displayName == "Database")
    }

    @Test func statusesMatchTheSpecInOrder() {
        #expect(ServerStatus.allCases.map(\.rawValue) == [
            "healthy", "critical_issue", "heavy_load", "idle", "maintenance", "morning_spike", "offline", "recovery",
        ])
        #expect(ServerStatus.allCases.map(\.index) == Array(0..<ServerStatus.count))
        for s in ServerStatus.allCases { #expect(ServerStatus(index: s.index) == s) }
        #expect(ServerStatus(index: -1) == nil)
        #expect(ServerStatus.parse(" heavy_load ") == .heavyLoad)
        #expect(ServerStatus.parse("Healthy") == .healthy)
        #expect(ServerStatus.parse("degraded") == nil)
    }

    @Test func thresholdTableIsCompleteAndOrdered() {
        let table = ProfileThresholds.table
        #expect(table.count == ServerProfile.count)
        for (profile, t) in table {
            for m in ThresholdMetric.allCases {
                #expect(t[m].warning < t[m].critical, "\(profile) \(m)")
                if m != .loadPerCore { #expect(t[m].critical <= 100) }
            }
        }
        // Databases tolerate fuller memory and more iowait than generic servers, but less swap.
        let db = ProfileThresholds.for(.database), generic = ProfileThresholds.for(.generic)
        #expect(db.memory.critical > generic.memory.critical)
        #expect(db.iowait.warning > generic.iowait.warning)
        #expect(db.swap.critical < generic.swap.critical)
        #expect(db.memory.severity(of: 93) == 1 && db.memory.severity(of: 98) == 2 && db.memory.severity(of: 50) == 0)
    }
}
