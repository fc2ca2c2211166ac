import Foundation
import Glibc
import HTTPServer

/// `Benchmarks http churn-study [seconds]`: is GET /health's p99 under an open/drop loop the server's
/// doing or the attacker's share of the 2 cores? The same attacker (a child process) against Argus and
/// against nginx (Debian's, loopback only, when installed), first unpinned, then with the server and wrk
/// pinned to core 0 and the attacker alone on core 1.
enum ChurnStudy {
    static func run(seconds: Int) throws {
        print("Benchmarks http churn-study — load average at start: \(HTTPBenchmark.loadAverage())")
        print("GET /health, wrk -t2 -c64 -d\(seconds)s; attacker: open/drop loop in its own process")
        let server = try HTTPBenchmark.makeServer(hub: WebSocketHub())
        try server.start()
        let pid = getpid()
        try serverCostPerConnection(port: server.port!, seconds: seconds)
        try study(name: "argus", port: server.port!, seconds: seconds,
                  pin: { try taskset(["-a", "-p", "-c", "0", String(pid)]) },
                  unpin: { try taskset(["-a", "-p", "-c", "0-\(ProcessInfo.processInfo.activeProcessorCount - 1)", String(pid)]) })
        server.shutdown(gracePeriod: .seconds(2))
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") else {
            print("  nginx: not installed (apt-get install nginx), skipped")
            return
        }
        var nginx = try NginxPeer.start(cpu: nil)
        try study(name: "nginx", port: nginx.port, seconds: seconds, pin: {
            nginx.stop()
            nginx = try NginxPeer.start(cpu: 0)
        }, unpin: { nginx.stop() })
    }

    static func study(name: String, port: Int, seconds: Int, pin: () throws -> Void, unpin: () throws -> Void) throws {
        let url = "http://127.0.0.1:\(port)/health"
        func row(_ label: String, attackerCPU: Int?, attack: Bool, wrkCPU: Int?) throws {
            let attacker = attack ? try AttackerProcess(kind: "churn", port: port, cpu: attackerCPU) : nil
            let result = try Wrk.run(url: url, seconds: seconds, cpu: wrkCPU)
            let opened = attacker?.stop() ?? 0
            print("  \(name) " + label.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " %9.0f req/s   p50 %6.2f ms   p99 %7.2f ms", result.requestsPerSecond,
                           result.p50Milliseconds, result.p99Milliseconds)
                  + (attack ? String(format: "   attacker %.0f conn/s", Double(opened) / Double(seconds)) : ""))
        }
        try row("unpinned, no attacker", attackerCPU: nil, attack: false, wrkCPU: nil)
        try row("unpinned, open/drop loop", attackerCPU: nil, attack: true, wrkCPU: nil)
        try pin()
        try row("server+wrk on core 0, no attacker", attackerCPU: nil, attack: false, wrkCPU: 0)
        try row("server+wrk on core 0, open/drop loop on core 1", attackerCPU: 1, attack: true, wrkCPU: 0)
        try unpin()
    }

    /// The attacker alone (no wrk): this process's CPU time (the server's threads; the attacker is a
    /// child process) per connection it opened and dropped.
    static func serverCostPerConnection(port: Int, seconds: Int) throws {
        func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let before = cpuSeconds()
        let attacker = try AttackerProcess(kind: "churn", port: port)
        sleep(UInt32(seconds))
        let opened = attacker.stop()
        let used = cpuSeconds() - before
        print(String(format: "  argus server CPU under the open/drop loop alone (no wrk): %.2f s for %d connections in %d s = %.1f µs each",
                     used, opened, seconds, used * 1e6 / Double(max(opened, 1))))
    }

    static func taskset(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchmarkError("taskset \(arguments) failed") }
    }
}

/// Debian's nginx on 127.0.0.1 answering GET /health with a fixed JSON body, 2 workers, no access log.
struct NginxPeer {
    let process: Process
    let port: Int
    let directory: String

    static func start(cpu: Int?) throws -> NginxPeer {
        let directory = NSTemporaryDirectory() + "argus_nginx_\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = 20_000 + Int(getpid() % 10_000)
        let configuration = """
        worker_processes 2;
        daemon off;
        pid \(directory)/nginx.pid;
        error_log \(directory)/error.log;
        events { worker_connections 16384; }
        http {
            access_log off;
            client_body_temp_path \(directory);
            server {
                listen 127.0.0.1:\(port) backlog=1024;
                location /health { default_type application/json; return 200 '{"status":"ok"}'; }
            }
        }
        """
        try configuration.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cpu == nil ? "/usr/sbin/nginx" : "/usr/bin/taskset")
        process.arguments = (cpu.map { ["-c", String($0), "/usr/sbin/nginx"] } ?? []) + ["-p", directory, "-c", directory + "/nginx.conf"]
        try process.run()
        // Ready when it answers.
        for _ in 0..<100 {
            let fd = BenchmarkSocket.connect(port: port)
            if fd >= 0 {
                Glibc.close(fd)
                return NginxPeer(process: process, port: port, directory: directory)
            }
            usleep(20_000)
        }
        process.terminate()
        throw BenchmarkError("nginx did not start on port \(port) (see \(directory)/error.log)")
    }

    func stop() {
        kill(process.processIdentifier, SIGQUIT)   // graceful: the master stops its workers
        process.waitUntilExit()
    }
}
