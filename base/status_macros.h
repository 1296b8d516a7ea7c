// Small Status helpers shared by every layer (Abseil 20220623 has no
// status_macros.h and no absl/log).
#ifndef QEFF_BASE_STATUS_MACROS_H_
#define QEFF_BASE_STATUS_MACROS_H_

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define QEFF_CONCAT_INNER_(a, b) a##b
#define QEFF_CONCAT_(a, b) QEFF_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define QEFF_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status qeff_status_ = (expr);        \
    if (!qeff_status_.ok()) return qeff_status_; \
  } while (0)

// `QEFF_ASSIGN_OR_RETURN(auto x, StatusOrExpr());`
#define QEFF_ASSIGN_OR_RETURN(lhs, expr) \
  QEFF_ASSIGN_OR_RETURN_IMPL_(QEFF_CONCAT_(qeff_statusor_, __LINE__), lhs, expr)
#define QEFF_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

// For programmer errors only (broken invariants), never for bad input.
#define QEFF_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: QEFF_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // QEFF_BASE_STATUS_MACROS_H_
