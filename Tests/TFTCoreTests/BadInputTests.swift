import Foundation
import Testing
@testable import TFTCore

/// Every malformed input is a thrown error naming the tensor or field — never a crash or garbage.
@Suite struct BadInputTests {
    let config = TinyModel.config()

    func modelAndTensors() throws -> (TFTModel, [String: NamedTensor]) {
        let model = try TFTModel(config: config, seed: 1)
        return (model, model.parameterTensors())
    }

    @Test func unknownTensorNameIsRejected() throws {
        var (model, tensors) = try modelAndTensors()
        tensors["encoder_variable_selection.bogus.weight"] = NamedTensor(shape: [1], values: [0])
        #expect(throws: TFTError.invalidTensor(name: "encoder_variable_selection.bogus.weight",
                                               problem: "unknown tensor: not a parameter of this model configuration")) {
            try model.loadParameters(tensors)
        }
    }

    @Test func missingTensorIsRejectedAndWeightsStayUntouched() throws {
        var (model, tensors) = try modelAndTensors()
        let before = model.parameters.values
        tensors["lstm_encoder.weight_hh_l0"] = nil
        tensors["output_layer.0.bias"] = NamedTensor(shape: [7], values: [Float](repeating: 9, count: 7))
        do { try model.loadParameters(tensors); Issue.record("expected an error") } catch let error as TFTError {
            #expect(error.description.contains("lstm_encoder.weight_hh_l0"))
            #expect(error.description.contains("missing"))
        }
        #expect(model.parameters.values == before)
    }

    @Test func wrongShapeAndDtypeAndNonFiniteValuesAreRejected() throws {
        var (model, tensors) = try modelAndTensors()
        let good = tensors
        tensors["output_layer.1.weight"] = NamedTensor(shape: [7, 9], values: [Float](repeating: 0, count: 63))
        #expect(throws: TFTError.self) { try model.loadParameters(tensors) }
        tensors = good
        tensors["output_layer.1.bias"] = NamedTensor(shape: [7], values: [Float](repeating: 0, count: 7), dtype: .i64)
        #expect(throws: TFTError.invalidTensor(name: "output_layer.1.bias", problem: "dtype I64 is not a floating-point type")) {
            try model.loadParameters(tensors)
        }
        tensors = good
        tensors["output_layer.1.bias"] = NamedTensor(shape: [7], values: [0, 0, .nan, 0, 0, 0, 0])
        #expect(throws: TFTError.invalidTensor(name: "output_layer.1.bias", problem: "non-finite value nan at flat index 2")) {
            try model.loadParameters(tensors)
        }
        tensors = good
        try model.loadParameters(tensors)   // and the untouched set still loads
    }

    @Test func safetensorsRoundTripAndTruncation() throws {
        let (model, tensors) = try modelAndTensors()
        let data = try SafeTensors.encode(tensors, metadata: ["producer": "test"])
        let decoded = try SafeTensors.decode(data)
        #expect(decoded.tensors == tensors)
        #expect(decoded.metadata["producer"] == "test")
        try model.loadParameters(decoded.tensors)
        #expect(throws: TFTError.self) { try SafeTensors.decode(data.prefix(5)) }
        #expect(throws: TFTError.self) { try SafeTensors.decode(data.prefix(data.count - 4)) }
        var corrupt = data
        corrupt[8] = UInt8(ascii: "x")   // header no longer JSON
        #expect(throws: TFTError.self) { try SafeTensors.decode(corrupt) }
    }

    @Test func inputsAreValidatedWithTheFieldNamed() throws {
        let model = try TFTModel(config: config)
        var batch = TinyModel.batch(config)
        batch.continuous[7] = .infinity
        do { _ = try model.forward(batch); Issue.record("expected an error") } catch let error as TFTError {
            #expect(error.description.contains("continuous"))
            #expect(error.description.contains("column 'mem' at sample 0, step 1"))
        }
        batch = TinyModel.batch(config)
        batch.categorical[1] = 8   // status has 8 levels: 0...7
        do { _ = try model.forward(batch); Issue.record("expected an error") } catch let error as TFTError {
            #expect(error.description.contains("'status' index 8"))
        }
        batch = TinyModel.batch(config)
        batch.encoderLengths[1] = 0
        #expect(throws: TFTError.self) { _ = try model.forward(batch) }
        batch = TinyModel.batch(config)
        batch.continuous.removeLast()
        #expect(throws: TFTError.self) { _ = try model.forward(batch) }
    }

    @Test func invalidConfigsNameTheField() {
        var c = config
        c.attentionHeads = 3
        #expect(throws: TFTError.invalidConfig(field: "attention_head_size", problem: "must divide hidden_size 8, got 3")) {
            _ = try TFTModel(config: c)
        }
        c = config
        c.encoderReals.append("disk")
        #expect(throws: TFTError.self) { _ = try TFTModel(config: c) }
        c = config
        c.embeddingSizes["status"] = nil
        #expect(throws: TFTError.invalidConfig(field: "embedding_sizes", problem: "missing an entry for 'status'")) {
            _ = try TFTModel(config: c)
        }
    }
}
