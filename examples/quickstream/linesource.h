// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/generator.h>

#include <QtCore/QObject>

/*!
  The C++ backend QML asks for streams: each lines() call starts a blocking
  producer on the default pool and hands its generator to QML. The
  generators stay owned by this object (C++ ownership), so the QML engine's
  garbage collector never deletes one that is still bound to a view.
*/
class LineSource : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    /*!
      A generator of the strings "line 1" ... "line <count>", made one at a
      time by a producer that blocks briefly for each, as a slow reader
      would. It reports its progress as the range 0..count.
    */
    Q_INVOKABLE QtOffload::QtGenerator *lines(int count);
};
