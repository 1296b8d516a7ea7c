// The IR text format: a readable, stable, exactly round-tripping form of a
// Graph — the language pass tests are written in. Grammar and examples:
// ir/TEXT_FORMAT.md.
//
//   graph main (opset 17, com.qualcomm.cloud 1) {
//     input %x: f32[batch, seq_len, 64]
//     const %w: f32[2] = [0.5, -1]
//     %y = Mul(%x, %w) : f32[batch, seq_len, 64] @"layers.0.scale"
//     output %y
//   }
//
// PrintGraph(ParseGraph(PrintGraph(g))) == PrintGraph(g) for every graph;
// the parsed graph has the same inputs, constants (bytes), nodes (op,
// domain, name, attributes, inputs, output types) and outputs. Value ids
// are not preserved (values are renumbered in text order) and dead nodes
// are not printed.
#ifndef QEFF_IR_TEXT_FORMAT_H_
#define QEFF_IR_TEXT_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ir/graph.h"

namespace qeff::ir {

struct PrintOptions {
  // Tensors with more elements than this print as raw little-endian bytes
  // in hex (`0x...`) instead of a list of numbers.
  int64_t max_inline_elements = 64;
  // For dumps: print the data of tensors above max_inline_elements as
  // `...`. Such text is NOT parseable (ParseGraph rejects `...`).
  bool elide_large_tensors = false;
};

std::string PrintGraph(const Graph& g, const PrintOptions& options = {});

// Parses the text format. Errors give `line:column`, what was expected and
// what was found. Does not run shape inference: output types are as
// written.
absl::StatusOr<Graph> ParseGraph(absl::string_view text);

}  // namespace qeff::ir

#endif  // QEFF_IR_TEXT_FORMAT_H_
