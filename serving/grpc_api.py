"""TF Serving's gRPC services, with the official stubs' servicer bases from tensorflow-serving-api:
``PredictionService`` (Predict, GetModelMetadata; Classify, Regress and MultiInference answer UNIMPLEMENTED: zoo
SavedModels have predict signatures only) and ``ModelService`` (GetModelStatus, HandleReloadConfigRequest)."""
from __future__ import annotations

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2, model_management_pb2,
                                     model_service_pb2_grpc, predict_pb2, prediction_service_pb2_grpc)

from serving import predict
from serving.errors import ServingError, invalid

STATES = get_model_status_pb2.ModelVersionStatus.State


def spec_of(model_spec):
    """``(name, version or None, label or None)`` of a ModelSpec (its ``version_choice`` oneof)."""
    which = model_spec.WhichOneof("version_choice")
    version = model_spec.version.value if which == "version" else None
    return model_spec.name, version, model_spec.version_label if which == "version_label" else None


def status_response(repository, name, version=None, label=None):
    response = get_model_status_pb2.GetModelStatusResponse()
    for v, state in repository.status(name, version, label):
        status = response.model_version_status.add(version=v, state=STATES.Value(state))
        status.status.error_code = 0
    return response


def signature_def_map(servable):
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    for key, sigdef in servable.metadata_defs.items():
        sig_map.signature_def[key].CopyFrom(sigdef)
    return sig_map


def metadata_response(repository, name, version=None, label=None, fields=("signature_def",)):
    servable = repository.resolve(name, version, label)
    unknown = [f for f in fields if f != "signature_def"]
    if unknown or not fields:
        raise invalid(f"Metadata field(s) {', '.join(unknown) or '(none)'} not supported: ask for signature_def.")
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = name
    response.model_spec.version.value = servable.version
    response.metadata["signature_def"].Pack(signature_def_map(servable))
    return response


def _abort(context, err: ServingError):
    context.abort(getattr(grpc.StatusCode, err.code), err.message)


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, app):
        self.app = app

    def Predict(self, request, context):
        try:
            servable = self.app.repository.resolve(*spec_of(request.model_spec))
            name, sigdef = predict.signature(servable, request.model_spec.signature_name)
            predict.check_proto_dtypes(name, sigdef, request.inputs)
            try:
                inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            except (TypeError, ValueError) as err:
                raise invalid(f"Input tensor proto could not be read: {err}") from None
            outputs_known = set(sigdef.outputs)
            for key in request.output_filter:
                if key not in outputs_known:
                    raise invalid(f"output tensor alias not found in signature: {key} Outputs expected to be in the "
                                  f"set {{{','.join(sorted(outputs_known))}}}.")
            name, outputs = predict.run(servable, name, inputs, self.app.batching, timeout=context.time_remaining())
            response = predict_pb2.PredictResponse()
            response.model_spec.name = servable.name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = name
            filt = set(request.output_filter)
            for key, value in outputs.items():
                if not filt or key in filt:
                    response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response
        except ServingError as err:
            _abort(context, err)

    def GetModelMetadata(self, request, context):
        try:
            return metadata_response(self.app.repository, *spec_of(request.model_spec), fields=list(
                request.metadata_field))
        except ServingError as err:
            _abort(context, err)

    def _method(self, request, context, method):
        """Classify / Regress on a predict signature: INVALID_ARGUMENT naming its method, as TF Serving."""
        try:
            servable = self.app.repository.resolve(*spec_of(request.model_spec))
            predict.check_method(servable, request.model_spec.signature_name, method)
            raise ServingError("UNIMPLEMENTED", f"{method} is not served by the development server.")
        except ServingError as err:
            _abort(context, err)

    def Classify(self, request, context):
        self._method(request, context, "classify")

    def Regress(self, request, context):
        self._method(request, context, "regress")

    def MultiInference(self, request, context):
        _abort(context, invalid("MultiInference runs classify and regress signatures: zoo SavedModels have predict "
                                "signatures only (tensorflow/serving/predict); use Predict."))


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, app):
        self.app = app

    def GetModelStatus(self, request, context):
        try:
            return status_response(self.app.repository, *spec_of(request.model_spec))
        except ServingError as err:
            _abort(context, err)

    def HandleReloadConfigRequest(self, request, context):
        response = model_management_pb2.ReloadConfigResponse()
        try:
            self.app.repository.reload(request.config)
            self.app.repository.check_labels()
        except (ServingError, ValueError) as err:
            code = err.code if isinstance(err, ServingError) else "INVALID_ARGUMENT"
            response.status.error_code = getattr(grpc.StatusCode, code).value[0]
            response.status.error_message = str(err)
        return response


def add_services(server, app) -> None:
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionServicer(app), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(app), server)
