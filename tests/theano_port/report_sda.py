"""Part B of the report (/work/shared/seed/assignment-report.txt): the first
denoising-autoencoder layer (784-900, tied weights, binomial corruption),
trained by SGD (Q1) and with the sparsity penalty and momentum (Q3), in the
report's Theano code.

Only the imports differ from the report. Its script-level code is wrapped
in ``build_da1()`` and ``train_steps()``; ``init_weights``, ``init_bias``,
``x`` and ``theano_rng`` are not shown in the report and are written the
obvious way.
"""
import numpy as np

import symgraph as theano
from symgraph import tensor as T
from symgraph.tensor.shared_randomstreams import RandomStreams


def init_weights(n_in, n_out):
    # not shown in the report
    bound = 4 * np.sqrt(6. / (n_in + n_out))
    values = np.asarray(np.random.uniform(low=-bound, high=bound, size=(n_in, n_out)),
                        dtype=theano.config.floatX)
    return theano.shared(value=values, name='W', borrow=True)


def init_bias(n):
    # not shown in the report
    return theano.shared(value=np.zeros(n, dtype=theano.config.floatX), name='b', borrow=True)


def sgd_momentum(cost, params, lr=0.1, momentum=0.1):
    grads = T.grad(cost=cost, wrt=params)
    updates = []
    for p, g in zip(params, grads):
        v = theano.shared(p.get_value() * 0.)
        v_new = momentum*v - g * lr
        updates.append([p, p + v_new])
        updates.append([v, v_new])
    return updates


def build_da1(sparsity=False, seed=123):
    """The first hidden layer's dA: Q1's ``train_da1`` (SGD), or with
    ``sparsity=True`` Q3's (sparsity penalty, momentum)."""
    corruption_level = 0.1
    learning_rate = 0.1
    gamma = 0.1
    beta = 0.5
    rho = 0.05
    x = T.matrix('x')
    theano_rng = RandomStreams(seed)

    W1 = init_weights(28*28, 900)
    b1 = init_bias(900)
    b1_prime = init_bias(28*28)
    W1_prime = W1.transpose()

    # train first hidden layer
    # corrupting inputs -- binomial distribution
    tilde_x = theano_rng.binomial(size=x.shape, n=1, p=1 - corruption_level,
                                  dtype=theano.config.floatX)*x
    y1 = T.nnet.sigmoid(T.dot(tilde_x, W1) + b1)
    z1 = T.nnet.sigmoid(T.dot(y1, W1_prime) + b1_prime)
    params1 = [W1, b1, b1_prime]
    if not sparsity:
        # cross-entropy
        cost1 = - T.mean(T.sum(x * T.log(z1) + (1 - x) * T.log(1 - z1), axis=1))

        grads1 = T.grad(cost1, params1)
        updates1 = [(param1, param1 - learning_rate * grad1)
                     for param1, grad1 in zip(params1, grads1)]
        train_da1 = theano.function(inputs=[x], outputs = cost1, updates = updates1,
                                    allow_input_downcast = True)
    else:
        # cross-entropy & sparsity constraint
        cost1 = - T.mean(T.sum(x * T.log(z1) + (1 - x) * T.log(1 - z1), axis=1)) \
                    + beta*T.shape(y1)[1]*(rho*T.log(rho) + (1-rho)*T.log(1-rho)) \
                    - beta*rho*T.sum(T.log(T.mean(y1, axis=0)+1e-6)) \
                    - beta*(1-rho)*T.sum(T.log(1-T.mean(y1, axis=0)+1e-6))

        grads1 = T.grad(cost1, params1)
        train_da1 = theano.function(inputs=[x], outputs = cost1, updates = sgd_momentum(
            cost1, params1, learning_rate, gamma), allow_input_downcast = True)
    encoder1 = theano.function(inputs=[x], outputs = y1, allow_input_downcast=True)
    return train_da1, encoder1, params1


def train_steps(train_da, trX, steps, batch_size=128):
    """``steps`` mini-batches in order through ``trX`` (wrapping around);
    returns the cost of each."""
    costs = []
    starts = range(0, len(trX) - batch_size + 1, batch_size)
    for i in range(steps):
        start = starts[i % len(starts)]
        costs.append(train_da(trX[start:start + batch_size]))
    return np.array(costs)
