// SPDX-License-Identifier: MIT
#pragma once

#include <QtOffload/generator.h>

#include <QtCore/QAbstractListModel>
#include <QtCore/QPointer>

#include <deque>

namespace QtOffload {

/*!
  A list model that appends each chunk of a generator as a row and keeps at
  most the last maximumRows of them, so a ListView binds to a generator
  directly: `ListView { model: ChunkListModel { generator: backend.lines() } }`.

  Rows carry the chunk as the "chunk" role (and Qt::DisplayRole, "display").
  Chunks arrive through chunkReady, in delivery-lane turns, so the chunk
  type must be one a QVariant can carry. Setting another generator (or
  none) keeps the rows already there; clear() removes them.
*/
class QTOFFLOAD_EXPORT ChunkListModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(QtOffload::QtGenerator *generator READ generator WRITE setGenerator NOTIFY generatorChanged)
    Q_PROPERTY(int maximumRows READ maximumRows WRITE setMaximumRows NOTIFY maximumRowsChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    enum Role { ChunkRole = Qt::UserRole + 1 };
    Q_ENUM(Role)

    //! What maximumRows starts at.
    static constexpr int DefaultMaximumRows = 1000;

    explicit ChunkListModel(QObject *parent = nullptr);
    ~ChunkListModel() override;

    QtGenerator *generator() const;
    //! Starts appending \a generator's chunks (it is not owned). Null: stop appending.
    void setGenerator(QtGenerator *generator);

    int maximumRows() const noexcept { return m_maximumRows; }
    /*!
      Keeps at most \a rows rows, dropping the oldest first. A value below 1
      is ignored with a warning (the property keeps its value).
    */
    void setMaximumRows(int rows);

    int count() const noexcept { return int(m_rows.size()); }

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    Q_INVOKABLE void clear();

Q_SIGNALS:
    void generatorChanged();
    void maximumRowsChanged(int rows);
    void countChanged(int count);

private:
    void append(const QVariant &chunk);
    void trim();

    QPointer<QtGenerator> m_generator;
    QMetaObject::Connection m_connection;
    int m_maximumRows = DefaultMaximumRows;
    std::deque<QVariant> m_rows;
};

} // namespace QtOffload
