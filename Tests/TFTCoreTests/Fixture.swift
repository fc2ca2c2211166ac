import Foundation
@testable import TFTCore

/// Loads the pytorch-forecasting reference fixtures made by `tools/make_tft_fixtures.py`.
struct Fixture {
    let config: TFTConfig
    let weights: [String: NamedTensor]
    let io: [String: NamedTensor]

    init(_ name: String) throws {
        let dir = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
        let configData = try Data(contentsOf: dir.appendingPathComponent("\(name)_config.json"))
        config = try JSONDecoder().decode(TFTConfig.self, from: configData)
        weights = try SafeTensors.read(contentsOf: dir.appendingPathComponent("\(name)_weights.safetensors")).tensors
        io = try SafeTensors.read(contentsOf: dir.appendingPathComponent("\(name)_io.safetensors")).tensors
    }

    func tensor(_ name: String) -> NamedTensor { io[name]! }

    /// The fixture's inputs in Argus's batch-major layout.
    func batch() -> TFTBatch {
        let ec = tensor("encoder_cont"), dc = tensor("decoder_cont"), ek = tensor("encoder_cat"), dk = tensor("decoder_cat")
        let B = ec.shape[0], Te = ec.shape[1], Td = dc.shape[1], nR = ec.shape[2], nC = ek.shape[2]
        var cont: [Float] = [], cat: [Int32] = []
        for b in 0..<B {
            cont += ec.values[(b * Te * nR)..<((b + 1) * Te * nR)]
            cont += dc.values[(b * Td * nR)..<((b + 1) * Td * nR)]
            cat += ek.values[(b * Te * nC)..<((b + 1) * Te * nC)].map { Int32($0) }
            cat += dk.values[(b * Td * nC)..<((b + 1) * Td * nC)].map { Int32($0) }
        }
        let ts = tensor("target_scale"), y = tensor("target")
        let nT = ts.shape[0]
        var scale = [Float](repeating: 0, count: B * nT * 2), target = [Float](repeating: 0, count: B * nT * Td)
        for t in 0..<nT {
            for b in 0..<B {
                scale[(b * nT + t) * 2] = ts.values[(t * B + b) * 2]
                scale[(b * nT + t) * 2 + 1] = ts.values[(t * B + b) * 2 + 1]
                for s in 0..<Td { target[(b * nT + t) * Td + s] = y.values[(t * B + b) * Td + s] }
            }
        }
        return TFTBatch(batchSize: B, encoderLength: Te, decoderLength: Td, continuous: cont, categorical: cat,
                        encoderLengths: tensor("encoder_lengths").values.map { Int($0) }, targetScale: scale, target: target)
    }
}

/// Largest violation of `|a − b| ≤ atol + rtol·|b|`, as a ratio (≤ 1 passes), with its index.
func worstMismatch(_ a: [Float], _ b: [Float], rtol: Float, atol: Float) -> (ratio: Float, index: Int) {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    var worst: (Float, Int) = (0, -1)
    for i in 0..<a.count {
        let r = abs(a[i] - b[i]) / (atol + rtol * abs(b[i]))
        if r > worst.0 || r.isNaN { worst = (r.isNaN ? .infinity : r, i) }
    }
    return worst
}
