// Versions of qeff and the libraries it was built with, for qconfig.json
// ("enough to rebuild the artifact", DESIGN.md "Contracts").
#ifndef QEFF_ENGINE_VERSIONS_H_
#define QEFF_ENGINE_VERSIONS_H_

#include <string>

namespace qeff::engine {

// {"qeff":"0.1.0","abseil":"20220623","onetbb":"2021.8","protobuf":"3.21.12",
//  "onnx":"1.12.0"} — compile-time versions of the headers qeff built with,
// plus oneTBB's run-time library version.
std::string VersionsJson();

// qconfig.json's "provenance" for a compiled program: the export key's
// parameters (model files' digests, architecture, transforms, export
// options) and VersionsJson().
std::string ProgramProvenanceJson(const std::string& export_params_json);

}  // namespace qeff::engine

#endif  // QEFF_ENGINE_VERSIONS_H_
