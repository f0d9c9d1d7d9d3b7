// SPDX-License-Identifier: MIT
#pragma once

// How the library words an error it reports itself (errorOccurred(), a
// warning, QtJob's errorString).

#include <exception>
#include <string>
#include <typeinfo>

namespace QtOffload::detail {

//! The readable (demangled where the ABI allows) name of \a type.
std::string typeName(const std::type_info &type);

//! A readable message for any exception, including ones not derived from std::exception.
std::string describeException(const std::exception_ptr &error);

} // namespace QtOffload::detail
