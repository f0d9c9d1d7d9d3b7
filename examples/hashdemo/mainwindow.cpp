// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "hashmethods.h"
#include "stallmeter.h"

#include <QtCore/QFileInfo>
#include <QtCore/QFutureWatcher>
#include <QtWidgets/QGridLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <cstdio>
#include <utility>

MainWindow::MainWindow(const QString &path, QWidget *parent)
    : QWidget(parent)
    , m_path(path)
    , m_fileSize(QFileInfo(path).size())
    , m_stallMeter(new StallMeter(this))
{
    setWindowTitle(QStringLiteral("QtOffload: hashing without freezing"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(
        QStringLiteral("SHA-256 of %1 (%2 MiB)").arg(QFileInfo(path).fileName()).arg(m_fileSize >> 20), this));

    auto *grid = new QGridLayout;
    layout->addLayout(grid);
    m_threaded = new ThreadedMethod(this);
    m_pauseButton = new QPushButton(QStringLiteral("Pause"), this);
    m_pauseButton->setEnabled(false);
    for (HashMethod *method : { makeGeneratorMethod(this), makeGuiThreadMethod(this), makeConcurrentMethod(this),
                                static_cast<HashMethod *>(m_threaded) }) {
        Row row { method, new QProgressBar(this), new QLabel(QStringLiteral("not run yet"), this), {} };
        row.progress->setRange(0, 1000);
        row.result->setTextInteractionFlags(Qt::TextSelectableByMouse);
        const int line = int(m_rows.size());
        grid->addWidget(new QLabel(method->name(), this), line, 0);
        grid->addWidget(row.progress, line, 1);
        grid->addWidget(row.result, line, 2);
        if (method == m_threaded) {
            grid->addWidget(m_pauseButton, line, 3);
            watchThreadedJob(row.progress);
        } else {
            connect(method, &HashMethod::progress, row.progress, [this, bar = row.progress](qint64 done) {
                bar->setValue(m_fileSize > 0 ? int(done * 1000 / m_fileSize) : 1000);
            });
        }
        connect(method, &HashMethod::finished, this,
                [this, line](const QByteArray &digest) { finishRow(m_rows[line], digest); });
        connect(method, &HashMethod::failed, this, [this, line](const QString &message) {
            m_stallMeter->stop();
            if (m_rows[line].method == m_threaded)
                m_drill = PauseDrill::Off;
            m_rows[line].result->setText(QStringLiteral("failed: %1").arg(message));
            std::printf("%s: failed: %s\n", qPrintable(m_rows[line].method->name()), qPrintable(message));
            std::fflush(stdout);
            runNext();
        });
        m_rows << row;
    }

    m_runButton = new QPushButton(QStringLiteral("Hash it four ways"), this);
    connect(m_runButton, &QPushButton::clicked, this, &MainWindow::runAll);
    layout->addWidget(m_runButton);
    m_summary = new QLabel(this);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);
    resize(1000, 250);
}

void MainWindow::watchThreadedJob(QProgressBar *bar)
{
    // The job's progress is in blocks of hashBlockBytes (1 MiB), the last one maybe partial.
    bar->setFormat(QStringLiteral("%v of %m MiB"));
    QFutureWatcher<QByteArray> *watcher = m_threaded->watcher();
    connect(watcher, &QFutureWatcherBase::progressRangeChanged, bar, [bar](int minimum, int maximum) {
        if (maximum > minimum) // (0, 0) until the job sets its range: no busy indicator meanwhile
            bar->setRange(minimum, maximum);
    });
    connect(watcher, &QFutureWatcherBase::progressValueChanged, bar, &QProgressBar::setValue);

    connect(m_pauseButton, &QPushButton::clicked, watcher,
            [watcher] { watcher->setSuspended(!(watcher->isSuspending() || watcher->isSuspended())); });
    connect(watcher, &QFutureWatcherBase::started, m_pauseButton, [this] {
        m_pauseButton->setText(QStringLiteral("Pause"));
        m_pauseButton->setEnabled(true);
    });
    connect(watcher, &QFutureWatcherBase::finished, m_pauseButton, [this] {
        m_pauseButton->setText(QStringLiteral("Pause"));
        m_pauseButton->setEnabled(false);
    });
    // Asked, but the job only stops at its next check point, after the block it is hashing.
    connect(watcher, &QFutureWatcherBase::suspending, m_pauseButton, [this, watcher] {
        if (!watcher->isFinished()) // a suspend() that came after the end
            m_pauseButton->setText(QStringLiteral("Pausing…"));
    });
    connect(watcher, &QFutureWatcherBase::suspended, this, [this, watcher] {
        m_pauseButton->setText(QStringLiteral("Resume"));
        m_pauseClock.start();
        if (m_drill == PauseDrill::Requested) {
            m_drill = PauseDrill::Resuming;
            watcher->resume();
        }
    });
    connect(watcher, &QFutureWatcherBase::resumed, this, [this] {
        m_pauseButton->setText(QStringLiteral("Pause"));
        if (m_pauseClock.isValid()) {
            m_pausedNs += m_pauseClock.nsecsElapsed();
            m_pauseClock.invalidate();
        }
        if (m_drill == PauseDrill::Resuming) {
            m_drill = PauseDrill::Off;
            std::printf("hashdemo: paused and resumed\n");
            std::fflush(stdout);
        }
    });
}

void MainWindow::pauseOnceInNextRun()
{
    m_drill = PauseDrill::Armed;
    m_drillRuns = 0;
}

void MainWindow::runAll()
{
    m_runButton->setEnabled(false);
    m_summary->clear();
    for (Row &row : m_rows) {
        row.digest.clear();
        row.progress->setValue(0);
    }
    m_current = -1;
    runNext();
}

void MainWindow::runNext()
{
    if (++m_current < m_rows.size()) {
        m_rows[m_current].result->setText(QStringLiteral("running..."));
        m_stallMeter->start();
        m_clock.start();
        m_pausedNs = 0;
        m_pauseClock.invalidate();
        m_rows[m_current].method->start(m_path);
        if (m_rows[m_current].method == m_threaded && m_drill == PauseDrill::Armed) {
            // Right after the submission: the job's first check point comes before its first block.
            m_drill = PauseDrill::Requested;
            ++m_drillRuns;
            m_threaded->watcher()->suspend();
        }
        return;
    }
    bool match = true;
    for (const Row &row : std::as_const(m_rows))
        match = match && !row.digest.isEmpty() && row.digest == m_rows.first().digest;
    m_summary->setText(
        match ? QStringLiteral("All four agree: SHA-256 %1").arg(QString::fromLatin1(m_rows.first().digest.toHex()))
              : QStringLiteral("The digests differ!"));
    m_runButton->setEnabled(true);
    Q_EMIT allFinished(match);
}

void MainWindow::finishRow(Row &row, const QByteArray &digest)
{
    m_stallMeter->stop();
    if (row.method == m_threaded && m_drill == PauseDrill::Requested) {
        // The job ran through before the suspend() reached it: the pause was not exercised.
        if (m_drillRuns < 3) {
            std::printf("hashdemo: the job ended before it could pause; running it again\n");
            std::fflush(stdout);
            m_drill = PauseDrill::Armed;
            --m_current;
            QMetaObject::invokeMethod(this, &MainWindow::runNext, Qt::QueuedConnection);
            return;
        }
        std::printf("hashdemo: the job never paused\n");
        std::fflush(stdout);
        m_drill = PauseDrill::Off;
    }
    // A paused job is not slow: its MiB/s leaves the pauses out.
    const qint64 workNs = m_clock.nsecsElapsed() - m_pausedNs;
    const double seconds = std::max(1e-9, double(workNs) / 1e9);
    const double mbPerSecond = double(m_fileSize) / (1024.0 * 1024.0) / seconds;
    row.digest = digest;
    if (row.method == m_threaded) {
        // The watcher alone moved this bar: the job's last value comes before its end.
        std::printf("hashdemo: the job's progress ended at %d of %d blocks\n", row.progress->value(),
                    row.progress->maximum());
        std::fflush(stdout);
    } else {
        row.progress->setValue(row.progress->maximum());
    }
    const QString text = QStringLiteral("longest stall %1 ms, %2 MiB/s, %3…")
                             .arg(m_stallMeter->worstStallMs(), 0, 'f', 1)
                             .arg(mbPerSecond, 0, 'f', 0)
                             .arg(QString::fromLatin1(digest.toHex().left(16)));
    row.result->setText(text);
    std::printf("%s: stall %.1f ms, %.0f MiB/s, sha256 %s\n", qPrintable(row.method->name()),
                m_stallMeter->worstStallMs(), mbPerSecond, digest.toHex().constData());
    std::fflush(stdout);
    // Let the last progress paint before the next method starts.
    QMetaObject::invokeMethod(this, &MainWindow::runNext, Qt::QueuedConnection);
}
