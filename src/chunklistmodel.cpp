// SPDX-License-Identifier: MIT
#include <QtOffload/chunklistmodel.h>

#include <QtCore/QDebug>

namespace QtOffload {

ChunkListModel::ChunkListModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

ChunkListModel::~ChunkListModel() = default;

QtGenerator *ChunkListModel::generator() const { return m_generator; }

void ChunkListModel::setGenerator(QtGenerator *generator)
{
    if (generator == m_generator)
        return;
    disconnect(m_connection);
    m_generator = generator;
    if (generator)
        m_connection = connect(generator, &QtGenerator::chunkReady, this, &ChunkListModel::append);
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
