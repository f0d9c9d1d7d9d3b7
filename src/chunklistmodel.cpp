// SPDX-License-Identifier: MIT
#include <QtOffload/chunklistmodel.h>

#include "scriptownership_p.h"

#include <QtCore/QDebug>

#include <atomic>
#include <utility>

namespace QtOffload {

namespace {
std::atomic<detail::ClaimFromScriptEngine> s_claimFromScriptEngine { nullptr };
} // namespace

void detail::setScriptOwnershipClaim(ClaimFromScriptEngine claim) noexcept { s_claimFromScriptEngine.store(claim); }

bool detail::claimFromScriptEngine(QObject *object)
{
    const ClaimFromScriptEngine claim = s_claimFromScriptEngine.load();
    return claim && claim(object);
}

ChunkListModel::ChunkListModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

ChunkListModel::~ChunkListModel() { releaseGenerator(); }

QtGenerator *ChunkListModel::generator() const { return m_generator; }

void ChunkListModel::setGenerator(QtGenerator *generator)
{
    if (generator == m_generator)
        return;
    releaseGenerator();
    m_generator = generator;
    if (generator) {
        if (!generator->parent() && generator->thread() == thread() && detail::claimFromScriptEngine(generator)) {
            generator->setParent(this);
            m_ownsGenerator = true;
        }
        m_chunkConnection = connect(generator, &QtGenerator::chunkReady, this, &ChunkListModel::append);
        m_destroyedConnection = connect(generator, &QObject::destroyed, this, &ChunkListModel::generatorDestroyed);
        m_finishedConnection = connect(generator, &QtGenerator::finished, this, [this] { m_generatorDone = true; });
        m_generatorDone = generator->isDone();
    }
    Q_EMIT generatorChanged();
}

void ChunkListModel::disconnectGenerator()
{
    disconnect(m_chunkConnection);
    disconnect(m_destroyedConnection);
    disconnect(m_finishedConnection);
}

void ChunkListModel::releaseGenerator()
{
    disconnectGenerator();
    if (std::exchange(m_ownsGenerator, false) && m_generator)
        m_generator->deleteLater(); // maybe from inside its own chunkReady
    m_generator.clear();
}

void ChunkListModel::generatorDestroyed()
{
    // QPointer is already null here, and the generator is half destroyed: only what it said before counts.
    disconnectGenerator();
    m_ownsGenerator = false;
    if (!m_generatorDone)
        qWarning("QtOffload::ChunkListModel: its generator was destroyed before its stream ended, after %d rows; "
                 "the model appends no more. Keep the generator alive: give it a parent, or hand it over without "
                 "one so that the model owns it",
                 count());
    m_generator.clear();
    Q_EMIT generatorChanged();
}

void ChunkListModel::setMaximumRows(int rows)
{
    if (rows < 1) {
        qWarning("QtOffload::ChunkListModel: maximumRows must be at least 1 (got %d); it stays %d", rows,
                 m_maximumRows);
        return;
    }
    if (rows == m_maximumRows)
        return;
    m_maximumRows = rows;
    trim();
    Q_EMIT maximumRowsChanged(rows);
}

int ChunkListModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : count(); }

QVariant ChunkListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    if (role != ChunkRole && role != Qt::DisplayRole)
        return {};
    return m_rows[std::size_t(index.row())];
}

QHash<int, QByteArray> ChunkListModel::roleNames() const
{
    return { { ChunkRole, QByteArrayLiteral("chunk") }, { Qt::DisplayRole, QByteArrayLiteral("display") } };
}

void ChunkListModel::clear()
{
    if (m_rows.empty())
        return;
    beginResetModel();
    m_rows.clear();
    endResetModel();
    Q_EMIT countChanged(0);
}

void ChunkListModel::append(const QVariant &chunk)
{
    const int row = count();
    beginInsertRows(QModelIndex(), row, row);
    m_rows.push_back(chunk);
    endInsertRows();
    const int before = count();
    trim();
    if (count() == before)
        Q_EMIT countChanged(count());
}

void ChunkListModel::trim()
{
    const int excess = count() - m_maximumRows;
    if (excess <= 0)
        return;
    beginRemoveRows(QModelIndex(), 0, excess - 1);
    m_rows.erase(m_rows.begin(), m_rows.begin() + excess);
    endRemoveRows();
    Q_EMIT countChanged(count());
}

} // namespace QtOffload
