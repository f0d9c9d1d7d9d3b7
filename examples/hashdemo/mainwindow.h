// SPDX-License-Identifier: MIT
#pragma once

#include <QtCore/QElapsedTimer>
#include <QtCore/QList>
#include <QtWidgets/QWidget>

class HashMethod;
class QLabel;
class QProgressBar;
class QPushButton;
class StallMeter;
class ThreadedMethod;

/*!
  Hashes one file four ways, one after another, and shows for each the
  progress, the throughput and the event loop's longest stall. The threaded
  job's progress bar and its Pause/Resume button follow the job's QFuture.
*/
class MainWindow : public QWidget
{
    Q_OBJECT

public:
    explicit MainWindow(const QString &path, QWidget *parent = nullptr);

    //! Runs every method in turn; allFinished() follows.
    void runAll();
    /*!
      The next run of the threaded job pauses it once and resumes it, as a
      click on Pause and then on Resume would: suspended as soon as it is
      submitted, resumed when the watcher reports suspended(), after which
      "hashdemo: paused and resumed" is printed. A job that ends before it
      reaches its check point is run again, three runs at most.
    */
    void pauseOnceInNextRun();

Q_SIGNALS:
    //! \a digestsMatch: all methods produced the same SHA-256.
    void allFinished(bool digestsMatch);

private:
    struct Row
    {
        HashMethod *method = nullptr;
        QProgressBar *progress = nullptr;
        QLabel *result = nullptr;
        QByteArray digest;
    };

    //! Where pauseOnceInNextRun() is.
    enum class PauseDrill { Off, Armed, Requested, Resuming };

    void runNext();
    void finishRow(Row &row, const QByteArray &digest);
    void watchThreadedJob(QProgressBar *bar);

    const QString m_path;
    const qint64 m_fileSize;
    QList<Row> m_rows;
    int m_current = -1;
    StallMeter *m_stallMeter = nullptr;
    QElapsedTimer m_clock;
    QPushButton *m_runButton = nullptr;
    ThreadedMethod *m_threaded = nullptr;
    QPushButton *m_pauseButton = nullptr;
    QElapsedTimer m_pauseClock; // valid while the job is held at its check point
    qint64 m_pausedNs = 0; // time the current run spent paused, left out of its MiB/s
    PauseDrill m_drill = PauseDrill::Off;
    int m_drillRuns = 0;
    QLabel *m_summary = nullptr;
};
