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

/*!
  Hashes one file three ways, one after another, and shows for each the
  progress, the throughput and the event loop's longest stall.
*/
class MainWindow : public QWidget
{
    Q_OBJECT

public:
    explicit MainWindow(const QString &path, QWidget *parent = nullptr);

    //! Runs every method in turn; allFinished() follows.
    void runAll();

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

    void runNext();
    void finishRow(Row &row, const QByteArray &digest);

    const QString m_path;
    const qint64 m_fileSize;
    QList<Row> m_rows;
    int m_current = -1;
    StallMeter *m_stallMeter = nullptr;
    QElapsedTimer m_clock;
    QPushButton *m_runButton = nullptr;
    QLabel *m_summary = nullptr;
};
