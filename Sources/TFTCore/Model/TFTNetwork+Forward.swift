/// Everything the backward pass needs from one forward pass of one worker.
struct TFTCache {
    let slice: BatchSlice
    let staticSelection: VariableSelectionNetwork.Cache?
    let staticEmbedding: UnsafeMutablePointer<Float>            // (B, H)
    let contextSelection, contextHidden, contextCell, contextEnrichment: GatedResidualNetwork.Cache
    let encoderSelection, decoderSelection: VariableSelectionNetwork.Cache
    let lstmEncoder, lstmDecoder: LSTM.Cache
    let postLSTMEncoder, postLSTMDecoder: GateAddNorm.Cache
    let lstmOutput: UnsafeMutablePointer<Float>                 // φ (B, T, H)
    let enrichment: GatedResidualNetwork.Cache                  // θ (B, T, H)
    let enrichedDecoder: UnsafeMutablePointer<Float>            // θ[:, Te:] (B, Td, H)
    let attention: InterpretableMultiHeadAttention.Cache
    let postAttention: GateAddNorm.Cache
    let positionwise: GatedResidualNetwork.Cache
    let preOutput: GateAddNorm.Cache
    let normalisedOutputs: [UnsafeMutablePointer<Float>]        // per target (B, Td, Q) before de-normalisation
}

extension TFTNetwork {
    /// Forward pass over one slice; writes de-normalised predictions `(B, targets, Td, Q)` into `prediction`.
    func forward(_ s: BatchSlice, prediction: UnsafeMutablePointer<Float>, _ pass: Pass) -> TFTCache {
        let arena = pass.arena, H = hidden, B = s.batch, Te = s.encoder, Td = s.decoder, T = s.totalSteps
        let nReals = config.reals.count, nCats = config.categoricals.count

        // 1. Static variable selection and the four static contexts.
        var staticCache: VariableSelectionNetwork.Cache? = nil
        let staticEmbedding: UnsafeMutablePointer<Float>
        if let staticSelection {
            let c = staticSelection.forward(cont: s.continuous, contColumns: nReals, cat: s.categorical, catColumns: nCats,
                                            map: RowMap(batch: B, length: 1, totalSteps: T, offset: 0), context: nil, pass)
            staticCache = c
            staticEmbedding = c.output
        } else {
            staticEmbedding = arena.zeros(B * H)
        }
        let cs = staticContextSelection.forward(staticEmbedding, rows: B, pass)
        let ch = staticContextHidden.forward(staticEmbedding, rows: B, pass)
        let cc = staticContextCell.forward(staticEmbedding, rows: B, pass)
        let ce = staticContextEnrichment.forward(staticEmbedding, rows: B, pass)

        // 2. Time-varying variable selection with the selection context broadcast over time.
        let encoderVS = encoderSelection.forward(
            cont: s.continuous, contColumns: nReals, cat: s.categorical, catColumns: nCats,
            map: RowMap(batch: B, length: Te, totalSteps: T, offset: 0),
            context: BroadcastContext(values: cs.y, group: Te), pass)
        let decoderVS = decoderSelection.forward(
            cont: s.continuous, contColumns: nReals, cat: s.categorical, catColumns: nCats,
            map: RowMap(batch: B, length: Td, totalSteps: T, offset: Te),
            context: BroadcastContext(values: cs.y, group: Td), pass)

        // 3. LSTM encoder from the static state, decoder from each sample's final encoder state.
        let encoderLSTM = lstmEncoder.forward(encoderVS.output, batch: B, length: Te, lengths: s.encoderLengths,
                                              h0: ch.y, c0: cc.y, pass)
        let decoderLSTM = lstmDecoder.forward(decoderVS.output, batch: B, length: Td, lengths: [Int](repeating: Td, count: B),
                                              h0: encoderLSTM.finalH, c0: encoderLSTM.finalC, pass)

        // 4. Gated skip over the LSTM (shared weights), joined into φ (B, T, H).
        let gateEncoder = postLSTM.forward(encoderLSTM.output, skip: encoderVS.output, rows: B * Te, pass)
        let gateDecoder = postLSTM.forward(decoderLSTM.output, skip: decoderVS.output, rows: B * Td, pass)
        let phi = arena.alloc(B * T * H)
        for b in 0..<B {
            (phi + b * T * H).update(from: gateEncoder.y + b * Te * H, count: Te * H)
            (phi + (b * T + Te) * H).update(from: gateDecoder.y + b * Td * H, count: Td * H)
        }

        // 5. Static enrichment θ, then attention with decoder queries.
        let enrichment = staticEnrichment.forward(phi, rows: B * T, context: BroadcastContext(values: ce.y, group: T), pass)
        let thetaDecoder = arena.alloc(B * Td * H)
        for b in 0..<B { (thetaDecoder + b * Td * H).update(from: enrichment.y + (b * T + Te) * H, count: Td * H) }
        let attn = attention.forward(input: enrichment.y, decoderInput: thetaDecoder, batch: B, encoder: Te, decoder: Td,
                                     encoderLengths: s.encoderLengths, pass)

        // 6. Gated skips, position-wise feed-forward, output heads.
        let postAttn = postAttention.forward(attn.y, skip: thetaDecoder, rows: B * Td, pass)
        let ff = positionwise.forward(postAttn.y, rows: B * Td, pass)
        let pre = preOutput.forward(ff.y, skip: gateDecoder.y, rows: B * Td, pass)
        let Q = config.quantiles.count, nT = config.targets.count
        var outputs: [UnsafeMutablePointer<Float>] = []
        for (t, layer) in outputLayers.enumerated() {
            let out = arena.alloc(B * Td * Q)
            layer.forward(pre.y, rows: B * Td, into: out, pass)
            outputs.append(out)
            for b in 0..<B {
                let center = s.targetScale[(b * nT + t) * 2], scale = s.targetScale[(b * nT + t) * 2 + 1]
                let src = out + b * Td * Q, dst = prediction + (b * nT + t) * Td * Q
                for i in 0..<(Td * Q) { dst[i] = src[i] * scale + center }
            }
        }
        return TFTCache(slice: s, staticSelection: staticCache, staticEmbedding: staticEmbedding,
                        contextSelection: cs, contextHidden: ch, contextCell: cc, contextEnrichment: ce,
                        encoderSelection: encoderVS, decoderSelection: decoderVS,
                        lstmEncoder: encoderLSTM, lstmDecoder: decoderLSTM,
                        postLSTMEncoder: gateEncoder, postLSTMDecoder: gateDecoder, lstmOutput: phi,
                        enrichment: enrichment, enrichedDecoder: thetaDecoder, attention: attn,
                        postAttention: postAttn, positionwise: ff, preOutput: pre, normalisedOutputs: outputs)
    }
}
