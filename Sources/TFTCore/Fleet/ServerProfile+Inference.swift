// Profile inference from a server name: one ordered rule table, documented in docs/simulator.md.

extension ServerProfile {
    /// How a keyword matches one letter-token of a server name.
    public enum KeywordMatch: Sendable {
        /// The token equals the keyword (`ml` matches `ml-node-1` but not `html01`).
        case whole
        /// The token starts or ends with the keyword (`postgres` matches `postgresql02` and `mainpostgres`).
        case affix
    }

    /// A keyword rule: a token that matches `keyword` selects `profile`.
    public struct KeywordRule: Sendable {
        public let keyword: String
        public let profile: ServerProfile
        public let match: KeywordMatch
    }

    /// Rule 1: name prefixes of the fleet's naming convention, checked in this order (longest first
    /// where prefixes overlap). Case-insensitive.
    public static let prefixRules: [(prefix: String, profile: ServerProfile)] = [
        ("pprisk", .riskAnalytics),
        ("ppweb", .webAPI),
        ("ppapi", .webAPI),
        ("ppcon", .conductor),   // also ppcond...
        ("ppetl", .etlIngest),
        ("ppgen", .generic),
        ("ppml", .mlCompute),
        ("ppdb", .database),
    ]

    /// Rule 2: keywords of common names. The name is split into letter runs ("postgres-db-02" →
    /// `postgres`, `db`); tokens are scanned left to right and, for each token, the rules in this order;
    /// the first match wins.
    public static let keywordRules: [KeywordRule] = {
        func rules(_ profile: ServerProfile, _ match: KeywordMatch, _ words: [String]) -> [KeywordRule] {
            words.map { KeywordRule(keyword: $0, profile: profile, match: match) }
        }
        return rules(.database, .affix, ["postgres", "mysql", "maria", "mongo", "redis", "oracle", "cassandra",
                                         "couch", "memcache", "elastic", "sql", "db"])
            + rules(.database, .whole, ["pg", "psdb"])
            + rules(.webAPI, .affix, ["nginx", "apache", "httpd", "tomcat", "frontend", "gateway", "haproxy",
                                      "web", "api"])
            + rules(.webAPI, .whole, ["www", "fe", "lb"])
            + rules(.etlIngest, .affix, ["kafka", "spark", "airflow", "flink", "hadoop", "nifi", "ingest",
                                         "stream", "etl"])
            + rules(.mlCompute, .affix, ["gpu", "train", "cuda", "torch", "tensor", "inference"])
            + rules(.mlCompute, .whole, ["ml"])
            + rules(.conductor, .affix, ["conductor", "maestro", "egomgmt", "orchestr", "scheduler"])
            + rules(.riskAnalytics, .affix, ["risk", "credit", "quant"])
    }()

    /// Infers the profile from a server name.
    ///
    /// 1. Case-insensitive prefix table ``prefixRules`` (`ppml0001` → ML compute, `ppdb001` → database,
    ///    `ppweb`/`ppapi` → web API, `ppcon` → conductor, `ppetl` → ETL/ingest, `pprisk` → risk analytics).
    /// 2. Keyword table ``keywordRules`` over the name's letter tokens (`postgres-02` → database,
    ///    `nginx-edge` → web API, `kafka3` → ETL/ingest, `gpu-node-7` → ML compute).
    /// 3. Otherwise ``generic``.
    public static func infer(serverName: String) -> ServerProfile {
        let name = serverName.lowercased()
        for rule in prefixRules where name.hasPrefix(rule.prefix) { return rule.profile }
        for token in letterTokens(name) {
            for rule in keywordRules {
                switch rule.match {
                case .whole where token == rule.keyword: return rule.profile
                case .affix where token.hasPrefix(rule.keyword) || token.hasSuffix(rule.keyword): return rule.profile
                default: continue
                }
            }
        }
        return .generic
    }

    /// Runs of ASCII letters, in order ("ppdb-main_02x" → ["ppdb", "main", "x"]).
    static func letterTokens(_ name: String) -> [String] {
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            if FleetASCII.isLetter(scalar) {
                current.append(scalar)
            } else if !current.isEmpty {
                tokens.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { tokens.append(String(current)) }
        return tokens
    }
}
