// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QTimer>

/*!
  Measures how responsive the event loop of its thread is: a 1 ms precise
  timer notes how late each tick comes. The longest lateness is the longest
  stall a user would have felt (a frozen window, a dropped frame).
*/
class StallMeter : public QObject
{
    Q_OBJECT

public:
    explicit StallMeter(QObject *parent = nullptr);

    void start();
    void stop();
    //! The longest lateness of a tick since start(), in milliseconds.
    double worstStallMs() const { return double(m_worstNs) / 1e6; }

private:
    void tick();

    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastTickNs = 0;
    qint64 m_worstNs = 0;
};
