import TFTCore

/// Server names and dependencies of a simulated fleet.
public enum FleetLayout {
    /// Fleet mix of the original generator (research/argus-original.md §3.2): web 28 %, ML 22 %,
    /// database 17 %, ingest 11 %, risk 9 %, generic 7 %, conductor 6 %.
    public static let mix: [(profile: ServerProfile, share: Double)] = [
        (.mlCompute, 0.22), (.database, 0.17), (.webAPI, 0.28), (.conductor, 0.06),
        (.etlIngest, 0.11), (.riskAnalytics, 0.09), (.generic, 0.07),
    ]

    /// Servers per profile for a fleet of `total`: largest-remainder apportionment of ``mix``; with seven
    /// or more servers every profile gets at least one (so cascades have sources and dependents).
    public static func counts(total: Int) -> [ServerProfile: Int] {
        var counts: [ServerProfile: Int] = [:]
        var remainders: [(ServerProfile, Double)] = []
        var assigned = 0
        for (profile, share) in mix {
            let exact = share * Double(total)
            counts[profile] = Int(exact)
            assigned += Int(exact)
            remainders.append((profile, exact - Double(Int(exact))))
        }
        // Stable tie-break: mix order.
        let order = remainders.enumerated().sorted { a, b in
            a.element.1 != b.element.1 ? a.element.1 > b.element.1 : a.offset < b.offset
        }.map { $0.element.0 }
        var k = 0
        while assigned < total {
            counts[order[k % order.count], default: 0] += 1
            assigned += 1
            k += 1
        }
        if total >= mix.count {
            for (profile, _) in mix where counts[profile, default: 0] == 0 {
                // Take one from the largest group.
                let donor = mix.map(\.profile).max { counts[$0, default: 0] < counts[$1, default: 0] }!
                counts[donor, default: 0] -= 1
                counts[profile] = 1
            }
        }
        return counts
    }

    /// Digits in the numeric suffix per profile, as in the original (`ppml0001`, `ppdb001`, `ppcon01`).
    static func digits(_ profile: ServerProfile) -> Int {
        switch profile {
        case .mlCompute: 4
        case .conductor: 2
        default: 3
        }
    }

    /// Generated names, grouped by profile in ``mix`` order, numbered from 1 (`ppml0001`, `ppdb001`,
    /// `ppweb001`, `ppcon01`, `ppetl001`, `pprisk001`, `ppgen001`).
    public static func serverNames(total: Int) -> [String] {
        let counts = counts(total: total)
        var names: [String] = []
        names.reserveCapacity(total)
        for (profile, _) in mix {
            let n = counts[profile, default: 0]
            let width = max(digits(profile), String(n).count)
            for i in 1...max(n, 1) where n > 0 {
                let number = String(i)
                names.append(profile.namePrefix + String(repeating: "0", count: width - number.count) + number)
            }
        }
        return names
    }

    /// Dependency edges: web/API, ETL, risk and conductor servers each use one database (round robin);
    /// ML servers use one conductor and one ETL server. Returns, per server index, the indices it
    /// depends on.
    static func dependencies(profiles: [ServerProfile]) -> [[Int]] {
        func indices(_ p: ServerProfile) -> [Int] { profiles.indices.filter { profiles[$0] == p } }
        let dbs = indices(.database), conductors = indices(.conductor), etls = indices(.etlIngest)
        var ordinal: [ServerProfile: Int] = [:]
        return profiles.map { profile in
            let k = ordinal[profile, default: 0]
            ordinal[profile] = k + 1
            switch profile {
            case .webAPI, .etlIngest, .riskAnalytics, .conductor:
                return dbs.isEmpty ? [] : [dbs[k % dbs.count]]
            case .mlCompute:
                var deps: [Int] = []
                if !conductors.isEmpty { deps.append(conductors[k % conductors.count]) }
                if !etls.isEmpty { deps.append(etls[k % etls.count]) }
                return deps
            case .database, .generic:
                return []
            }
        }
    }

    /// The effect a sick `source` has on a dependent of profile `dependent`.
    static func effect(source: ServerProfile, dependent: ServerProfile) -> CascadeEffect {
        switch (source, dependent) {
        case (.conductor, .mlCompute): .idleResources
        case (.etlIngest, _), (.database, .riskAnalytics): .dataStarvation
        default: .connectionFailures
        }
    }
}
