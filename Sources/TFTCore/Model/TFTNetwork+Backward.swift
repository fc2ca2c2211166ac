extension TFTNetwork {
    /// Backpropagates `dprediction` (gradient of the loss w.r.t. the de-normalised predictions,
    /// `(B, targets, Td, Q)`) through every layer; parameter gradients accumulate into `pass.g`.
    func backward(_ c: TFTCache, dprediction: UnsafePointer<Float>, _ pass: Pass) {
        let arena = pass.arena, s = c.slice, H = hidden, B = s.batch, Te = s.encoder, Td = s.decoder, T = s.totalSteps
        let nReals = config.reals.count, nCats = config.categoricals.count
        let Q = config.quantiles.count, nT = config.targets.count

        // Output heads: ŷ = out·scale + center.
        let dpre = arena.zeros(B * Td * H)
        for (t, layer) in outputLayers.enumerated() {
            let dout = arena.alloc(B * Td * Q)
            for b in 0..<B {
                let scale = s.targetScale[(b * nT + t) * 2 + 1]
                let src = dprediction + (b * nT + t) * Td * Q, dst = dout + b * Td * Q
                for i in 0..<(Td * Q) { dst[i] = src[i] * scale }
            }
            layer.backward(x: c.preOutput.y, dy: dout, rows: B * Td, dx: dpre, pass)
        }

        let dff = arena.zeros(B * Td * H), dgateDecoder = arena.zeros(B * Td * H)
        preOutput.backward(c.preOutput, dy: dpre, rows: B * Td, dx: dff, dskip: dgateDecoder, pass)
        let dpostAttn = arena.zeros(B * Td * H)
        positionwise.backward(c.positionwise, dy: dff, rows: B * Td, dx: dpostAttn, dcontext: nil, pass)
        let dattn = arena.zeros(B * Td * H), dthetaDecoder = arena.zeros(B * Td * H)
        postAttention.backward(c.postAttention, dy: dpostAttn, rows: B * Td, dx: dattn, dskip: dthetaDecoder, pass)
        let dtheta = arena.zeros(B * T * H)
        attention.backward(c.attention, dy: dattn, dinput: dtheta, ddecoderInput: dthetaDecoder, pass)
        for b in 0..<B { Kernels.add(dthetaDecoder + b * Td * H, into: dtheta + (b * T + Te) * H, count: Td * H) }

        let dphi = arena.zeros(B * T * H), dce = arena.zeros(B * H)
        staticEnrichment.backward(c.enrichment, dy: dtheta, rows: B * T, dx: dphi, dcontext: dce, pass)
        let dgateEncoder = arena.alloc(B * Te * H)
        for b in 0..<B {
            (dgateEncoder + b * Te * H).update(from: dphi + b * T * H, count: Te * H)
            Kernels.add(dphi + (b * T + Te) * H, into: dgateDecoder + b * Td * H, count: Td * H)
        }

        let dlstmEncoderOut = arena.zeros(B * Te * H), dencoderVS = arena.zeros(B * Te * H)
        let dlstmDecoderOut = arena.zeros(B * Td * H), ddecoderVS = arena.zeros(B * Td * H)
        postLSTM.backward(c.postLSTMEncoder, dy: dgateEncoder, rows: B * Te, dx: dlstmEncoderOut, dskip: dencoderVS, pass)
        postLSTM.backward(c.postLSTMDecoder, dy: dgateDecoder, rows: B * Td, dx: dlstmDecoderOut, dskip: ddecoderVS, pass)

        let dstateH = arena.zeros(B * H), dstateC = arena.zeros(B * H)
        lstmDecoder.backward(c.lstmDecoder, doutput: dlstmDecoderOut, dfinalH: nil, dfinalC: nil, dx: ddecoderVS,
                             dh0: dstateH, dc0: dstateC, pass)
        let dh0 = arena.zeros(B * H), dc0 = arena.zeros(B * H)
        lstmEncoder.backward(c.lstmEncoder, doutput: dlstmEncoderOut, dfinalH: dstateH, dfinalC: dstateC, dx: dencoderVS,
                             dh0: dh0, dc0: dc0, pass)

        let dcs = arena.zeros(B * H)
        decoderSelection.backward(c.decoderSelection, doutput: ddecoderVS, cont: s.continuous, contColumns: nReals,
                                  cat: s.categorical, catColumns: nCats, dcontext: dcs, pass)
        encoderSelection.backward(c.encoderSelection, doutput: dencoderVS, cont: s.continuous, contColumns: nReals,
                                  cat: s.categorical, catColumns: nCats, dcontext: dcs, pass)

        let dstatic = arena.zeros(B * H)
        staticContextSelection.backward(c.contextSelection, dy: dcs, rows: B, dx: dstatic, dcontext: nil, pass)
        staticContextHidden.backward(c.contextHidden, dy: dh0, rows: B, dx: dstatic, dcontext: nil, pass)
        staticContextCell.backward(c.contextCell, dy: dc0, rows: B, dx: dstatic, dcontext: nil, pass)
        staticContextEnrichment.backward(c.contextEnrichment, dy: dce, rows: B, dx: dstatic, dcontext: nil, pass)
        if let staticSelection, let sc = c.staticSelection {
            staticSelection.backward(sc, doutput: dstatic, cont: s.continuous, contColumns: nReals, cat: s.categorical,
                                     catColumns: nCats, dcontext: nil, pass)
        }
    }
}
