// One registration function per kernel family; RegisterAllKernels() (in
// ir/evaluator.cc) calls each once, so linking //ir:evaluator always brings
// every kernel (no static initializers for the linker to drop).
#ifndef QEFF_IR_KERNELS_REGISTRY_H_
#define QEFF_IR_KERNELS_REGISTRY_H_

namespace qeff::ir::kernels {

void RegisterElementwiseKernels();
void RegisterReduceKernels();
void RegisterMatmulKernels();
void RegisterShapeKernels();
void RegisterIndexKernels();
void RegisterCustomKernels();
void RegisterNnKernels();
void RegisterLossKernels();
void RegisterMoEKernels();
void RegisterConvKernels();  // conv.cc

}  // namespace qeff::ir::kernels

#endif  // QEFF_IR_KERNELS_REGISTRY_H_
