/// The layers of a TFT and where each parameter lives in the flat buffer. Registration order is
/// the order of the flat buffer; names are pytorch-forecasting's `state_dict` keys.
struct TFTNetwork {
    let config: TFTConfig
    let hidden: Int
    let staticSelection: VariableSelectionNetwork?
    let encoderSelection: VariableSelectionNetwork
    let decoderSelection: VariableSelectionNetwork
    let staticContextSelection: GatedResidualNetwork
    let staticContextHidden: GatedResidualNetwork
    let staticContextCell: GatedResidualNetwork
    let staticContextEnrichment: GatedResidualNetwork
    let lstmEncoder: LSTM
    let lstmDecoder: LSTM
    let postLSTM: GateAddNorm
    let staticEnrichment: GatedResidualNetwork
    let attention: InterpretableMultiHeadAttention
    let postAttention: GateAddNorm
    let positionwise: GatedResidualNetwork
    let preOutput: GateAddNorm
    let outputLayers: [Linear]

    init(config: TFTConfig, layout: inout ParameterLayout) {
        self.config = config
        let H = config.hiddenSize, Hc = config.hiddenContinuousSize
        hidden = H

        var embeddingTables: [String: Int] = [:]
        for name in config.categoricals {
            let e = config.embeddingSizes[name]!
            embeddingTables[name] = layout.add("input_embeddings.embeddings.\(name).weight", [e.cardinality, e.dimension], .normal)
        }
        var prescalers: [String: (weight: Int, bias: Int)] = [:]
        for name in config.staticReals + config.encoderReals + config.decoderReals where prescalers[name] == nil {
            let w = layout.add("prescalers.\(name).weight", [Hc, 1], .uniformFanIn(1))
            let b = layout.add("prescalers.\(name).bias", [Hc], .uniformFanIn(1))
            prescalers[name] = (w, b)
        }
        func variables(_ vsn: String, categoricals: [String], reals: [String]) -> [(name: String, embedding: VariableEmbedding)] {
            let cats = categoricals.map { name -> (name: String, embedding: VariableEmbedding) in
                let e = config.embeddingSizes[name]!
                return (name, .categorical(column: config.categoricals.firstIndex(of: name)!, table: embeddingTables[name]!,
                                           cardinality: e.cardinality, dim: e.dimension))
            }
            let conts = reals.map { name -> (name: String, embedding: VariableEmbedding) in
                layout.addAlias("\(vsn).prescalers.\(name).weight", for: "prescalers.\(name).weight")
                layout.addAlias("\(vsn).prescalers.\(name).bias", for: "prescalers.\(name).bias")
                return (name, .continuous(column: config.reals.firstIndex(of: name)!, weight: prescalers[name]!.weight,
                                          bias: prescalers[name]!.bias, size: Hc))
            }
            return cats + conts
        }
        let staticVars = variables("static_variable_selection", categoricals: config.staticCategoricals, reals: config.staticReals)
        staticSelection = staticVars.isEmpty ? nil
            : VariableSelectionNetwork(&layout, "static_variable_selection", variables: staticVars, hidden: H, contextSize: nil)
        encoderSelection = VariableSelectionNetwork(
            &layout, "encoder_variable_selection",
            variables: variables("encoder_variable_selection", categoricals: config.encoderCategoricals, reals: config.encoderReals),
            hidden: H, contextSize: H)
        decoderSelection = VariableSelectionNetwork(
            &layout, "decoder_variable_selection",
            variables: variables("decoder_variable_selection", categoricals: config.decoderCategoricals, reals: config.decoderReals),
            hidden: H, contextSize: H)
        staticContextSelection = GatedResidualNetwork(&layout, "static_context_variable_selection", in: H, hidden: H, out: H)
        staticContextHidden = GatedResidualNetwork(&layout, "static_context_initial_hidden_lstm", in: H, hidden: H, out: H)
        staticContextCell = GatedResidualNetwork(&layout, "static_context_initial_cell_lstm", in: H, hidden: H, out: H)
        staticContextEnrichment = GatedResidualNetwork(&layout, "static_context_enrichment", in: H, hidden: H, out: H)
        lstmEncoder = LSTM(&layout, "lstm_encoder", input: H, hidden: H)
        lstmDecoder = LSTM(&layout, "lstm_decoder", input: H, hidden: H)
        // pytorch-forecasting shares these modules between the encoder and decoder halves.
        postLSTM = GateAddNorm(&layout, glu: "post_lstm_gate_encoder", norm: "post_lstm_add_norm_encoder", in: H, out: H, dropout: true)
        for suffix in ["fc.weight", "fc.bias"] {
            layout.addAlias("post_lstm_gate_decoder.\(suffix)", for: "post_lstm_gate_encoder.\(suffix)")
        }
        for suffix in ["norm.weight", "norm.bias"] {
            layout.addAlias("post_lstm_add_norm_decoder.\(suffix)", for: "post_lstm_add_norm_encoder.\(suffix)")
        }
        staticEnrichment = GatedResidualNetwork(&layout, "static_enrichment", in: H, hidden: H, out: H, contextSize: H)
        attention = InterpretableMultiHeadAttention(&layout, "multihead_attn", heads: config.attentionHeads, model: H)
        postAttention = GateAddNorm(&layout, "post_attn_gate_norm", in: H, out: H, dropout: true)
        positionwise = GatedResidualNetwork(&layout, "pos_wise_ff", in: H, hidden: H, out: H)
        preOutput = GateAddNorm(&layout, "pre_output_gate_norm", in: H, out: H, dropout: false)
        let Q = config.quantiles.count
        if config.targets.count == 1 {
            outputLayers = [Linear(&layout, "output_layer", in: H, out: Q)]
        } else {
            outputLayers = (0..<config.targets.count).map { Linear(&layout, "output_layer.\($0)", in: H, out: Q) }
        }
    }
}

/// One worker's slice of a batch: pointers into the caller's arrays, never copies.
struct BatchSlice {
    let batch: Int
    let encoder: Int
    let decoder: Int
    let continuous: UnsafePointer<Float>
    let categorical: UnsafePointer<Int32>
    let encoderLengths: [Int]
    let targetScale: UnsafePointer<Float>   // (batch, targets, 2)
    var totalSteps: Int { encoder + decoder }
}
