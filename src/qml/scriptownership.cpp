// SPDX-License-Identifier: MIT
// Loaded with `import QtOffload`: tells the Core-only library which objects
// the QML engine owns, so that a ChunkListModel can keep its generator from
// the garbage collector (see chunklistmodel.h).

#include "../scriptownership_p.h"

#include <QtQml/QJSEngine>

namespace {

bool claimFromScriptEngine(QObject *object)
{
    if (QJSEngine::objectOwnership(object) != QJSEngine::JavaScriptOwnership)
        return false;
    QJSEngine::setObjectOwnership(object, QJSEngine::CppOwnership);
    return true;
}

const bool claimInstalled = [] {
    QtOffload::detail::setScriptOwnershipClaim(&claimFromScriptEngine);
    return true;
}();

} // namespace
