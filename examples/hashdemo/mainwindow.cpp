// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "hashmethods.h"
#include "stallmeter.h"

#include <QtCore/QFileInfo>
#include <QtWidgets/QGridLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <cstdio>
#include <utility>

MainWindow::MainWindow(const QString &path, QWidget *parent)
    : QWidget(parent), m_path(path), m_fileSize(QFileInfo(path).size()), m_stallMeter(new StallMeter(this))
{
    setWindowTitle(QStringLiteral("QtOffload: hashing without freezing"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(QStringLiteral("SHA-256 of %1 (%2 MiB)").arg(QFileInfo(path).fileName()).arg(m_fileSize >> 20), this));

    auto *grid = new QGridLayout;
    layout->addLayout(grid);
    for (HashMethod *method : {makeGeneratorMethod(this), makeGuiThreadMethod(this), makeConcurrentMethod(this)}) {
        Row row{method, new QProgressBar(this), new QLabel(QStringLiteral("not run yet"), this), {}};
        row.progress->setRange(0, 1000);
        row.result->setTextInteractionFlags(Qt::TextSelectableByMouse);
        const int line = int(m_rows.size());
        grid->addWidget(new QLabel(method->name(), this), line, 0);
        grid->addWidget(row.progress, line, 1);
        grid->addWidget(row.result, line, 2);
        connect(method, &HashMethod::progress, row.progress, [this, bar = row.progress](qint64 done) {
            bar->setValue(m_fileSize > 0 ? int(done * 1000 / m_fileSize) : 1000);
        });
        connect(method, &HashMethod::finished, this, [this, line](const QByteArray &digest) { finishRow(m_rows[line], digest); });
        connect(method, &HashMethod::failed, this, [this, line](const QString &message) {
            m_stallMeter->stop();
            m_rows[line].result->setText(QStringLiteral("failed: %1").arg(message));
            std::printf("%s: failed: %s\n", qPrintable(m_rows[line].method->name()), qPrintable(message));
            std::fflush(stdout);
            runNext();
        });
        m_rows << row;
    }

    m_runButton = new QPushButton(QStringLiteral("Hash it three ways"), this);
    connect(m_runButton, &QPushButton::clicked, this, &MainWindow::runAll);
    layout->addWidget(m_runButton);
    m_summary = new QLabel(this);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);
    resize(900, 220);
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
        m_rows[m_current].method->start(m_path);
        return;
    }
    bool match = true;
    for (const Row &row : std::as_const(m_rows))
        match = match && !row.digest.isEmpty() && row.digest == m_rows.first().digest;
    m_summary->setText(match ? QStringLiteral("The three agree: SHA-256 %1").arg(QString::fromLatin1(m_rows.first().digest.toHex()))
                             : QStringLiteral("The digests differ!"));
    m_runButton->setEnabled(true);
    Q_EMIT allFinished(match);
}

void MainWindow::finishRow(Row &row, const QByteArray &digest)
{
    m_stallMeter->stop();
    const double seconds = std::max(1e-9, double(m_clock.nsecsElapsed()) / 1e9);
    const double mbPerSecond = double(m_fileSize) / (1024.0 * 1024.0) / seconds;
    row.digest = digest;
    row.progress->setValue(1000);
    const QString text = QStringLiteral("longest stall %1 ms, %2 MiB/s, %3…")
                             .arg(m_stallMeter->worstStallMs(), 0, 'f', 1)
                             .arg(mbPerSecond, 0, 'f', 0)
                             .arg(QString::fromLatin1(digest.toHex().left(16)));
    row.result->setText(text);
    std::printf("%s: stall %.1f ms, %.0f MiB/s, sha256 %s\n", qPrintable(row.method->name()), m_stallMeter->worstStallMs(),
                mbPerSecond, digest.toHex().constData());
    std::fflush(stdout);
    // Let the last progress paint before the next method starts.
    QMetaObject::invokeMethod(this, &MainWindow::runNext, Qt::QueuedConnection);
}
